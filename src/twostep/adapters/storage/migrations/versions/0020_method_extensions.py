"""methods.extension: a phone method's extension, kept apart from its E.164 number (issue
16: numbers moved in from Azure MFA Server, such as ``+1 201-555-0123 x890``). Texts go to
the number alone; a call dials the extension once answered.

Revision ID: 0020_method_extensions
Revises: 0019_radius_client_options
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_method_extensions"
down_revision = "0019_radius_client_options"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild on SQLite).
    op.add_column("methods", sa.Column("extension", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("methods", schema=None) as batch_op:
        batch_op.drop_column("extension")
