"""The self-service portal (issue 14, item 2): one-time enrollment links (only each
token's SHA-256 kept) and the sign-ins users reported as "not me" (one row per event).

Revision ID: 0014_self_service
Revises: 0013_usage_rollups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_self_service"
down_revision = "0013_usage_rollups"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "enrollment_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_enrollment_links_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_enrollment_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_enrollment_links_token_hash")),
    )
    op.create_index(
        op.f("ix_enrollment_links_user_id"), "enrollment_links", ["user_id"], unique=False
    )
    op.create_table(
        "signin_reports",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("reported_at", sa.Float(), nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_signin_reports_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_signin_reports_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_signin_reports")),
    )
    op.create_index(
        op.f("ix_signin_reports_tenant_id_reported_at"),
        "signin_reports",
        ["tenant_id", "reported_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_signin_reports_tenant_id_reported_at"), table_name="signin_reports")
    op.drop_table("signin_reports")
    op.drop_index(op.f("ix_enrollment_links_user_id"), table_name="enrollment_links")
    op.drop_table("enrollment_links")
