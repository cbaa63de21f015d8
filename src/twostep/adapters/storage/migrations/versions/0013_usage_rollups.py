"""Usage rollups (issues 14 and 15): audit event counts per tenant, UTC day, integration,
interface, method, result and reason, kept by an incremental job
(services/rollups.py); where the job stands; the positions it found missing; and the
indexes that count locked users without a scan.

Revision ID: 0013_usage_rollups
Revises: 0012_pages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_usage_rollups"
down_revision = "0012_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_rollups",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("integration", sa.String(length=128), nullable=False),
        sa.Column("interface", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "day",
            "integration",
            "interface",
            "method",
            "result",
            "reason",
            name=op.f("pk_audit_rollups"),
        ),
    )
    op.create_index(op.f("ix_audit_rollups_day"), "audit_rollups", ["day"], unique=False)
    op.create_table(
        "rollup_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_state")),
    )
    op.create_table(
        "rollup_gaps",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_rollup_gaps")),
    )
    op.create_index(op.f("ix_users_tenant_id_locked_until"), "users", ["tenant_id", "locked_until"])
    op.create_index(op.f("ix_users_locked_until"), "users", ["locked_until"])


def downgrade() -> None:
    op.drop_index(op.f("ix_users_locked_until"), table_name="users")
    op.drop_index(op.f("ix_users_tenant_id_locked_until"), table_name="users")
    op.drop_table("rollup_gaps")
    op.drop_table("rollup_state")
    op.drop_index(op.f("ix_audit_rollups_day"), table_name="audit_rollups")
    op.drop_table("audit_rollups")
