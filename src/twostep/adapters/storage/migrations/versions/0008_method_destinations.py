"""methods.email and methods.pin: the email method's address, and the voice PIN in a
sealed column of its own (it lived in ``seed``)

A PIN keeps its ciphertext: it was sealed to the method id, as a seed is, and moves as
it is (no key is needed here).

Revision ID: 0008_method_destinations
Revises: 0007_challenge_answers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_method_destinations"
down_revision = "0007_challenge_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table rebuild on SQLite).
    op.add_column("methods", sa.Column("email", sa.String(length=320), nullable=True))
    op.add_column("methods", sa.Column("pin", sa.LargeBinary(), nullable=True))
    op.execute("UPDATE methods SET pin = seed, seed = NULL WHERE kind = 'voice'")


def downgrade() -> None:
    op.execute("UPDATE methods SET seed = pin WHERE kind = 'voice'")
    op.execute("DELETE FROM methods WHERE kind = 'email'")
    with op.batch_alter_table("methods", schema=None) as batch_op:
        batch_op.drop_column("pin")
        batch_op.drop_column("email")
