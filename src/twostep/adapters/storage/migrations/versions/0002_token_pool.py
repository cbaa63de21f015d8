"""token pool: unassigned tokens, vendor details

Hardware tokens imported from vendor files wait in the tenant's pool as ``oath_token``
methods without a user, until an admin assigns them.

Revision ID: 0002_token_pool
Revises: 0001_initial_schema
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_token_pool"
down_revision = "0001_initial_schema"
branch_labels = None
depends_on = None


_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("methods", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manufacturer", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("model", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("valid_from", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("valid_until", sa.Float(), nullable=True))
        batch_op.alter_column("user_id", existing_type=_BIG_ID, nullable=True)


def downgrade() -> None:
    # Tokens nobody holds cannot survive a NOT NULL user: they leave with the pool.
    op.execute("DELETE FROM methods WHERE user_id IS NULL")
    with op.batch_alter_table("methods", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=_BIG_ID, nullable=False)
        batch_op.drop_column("valid_until")
        batch_op.drop_column("valid_from")
        batch_op.drop_column("model")
        batch_op.drop_column("manufacturer")
