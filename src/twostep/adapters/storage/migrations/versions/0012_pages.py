"""The pages (issue 14): admin grants (which users may sign in to the management portal,
with which role, over which tenant) and page sessions (server-side: the cookie holds a
random token, this table only its SHA-256).

Revision ID: 0012_pages
Revises: 0011_hosted_signin
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_pages"
down_revision = "0011_hosted_signin"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "admin_grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("scope_tenant_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_admin_grants_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_admin_grants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scope_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_admin_grants_scope_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_grants")),
    )
    op.create_index(op.f("ix_admin_grants_user_id"), "admin_grants", ["user_id"], unique=False)
    op.create_table(
        "page_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("scope_tenant_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_seen_at", sa.Float(), nullable=False),
        sa.Column("idle_seconds", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_page_sessions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_page_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_sessions")),
    )
    op.create_index(op.f("ix_page_sessions_user_id"), "page_sessions", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_page_sessions_expires_at"), "page_sessions", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_page_sessions_expires_at"), table_name="page_sessions")
    op.drop_index(op.f("ix_page_sessions_user_id"), table_name="page_sessions")
    op.drop_table("page_sessions")
    op.drop_index(op.f("ix_admin_grants_user_id"), table_name="admin_grants")
    op.drop_table("admin_grants")
