"""Request ids: each audit event records the HTTP (``X-Request-ID``) or RADIUS request that
made it, so it can be matched with that request's log lines.

No index: the id is looked up while investigating one sign-in (narrowed by tenant, and by
time when given), and every sign-in would pay for one.

Revision ID: 0010_request_ids
Revises: 0009_directories
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_request_ids"
down_revision = "0009_directories"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: no rebuild of a table that may hold millions of events.
    with op.batch_alter_table("audit_events", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", recreate="never") as batch_op:
        batch_op.drop_column("request_id")
