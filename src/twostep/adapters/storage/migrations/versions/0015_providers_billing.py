"""Providers and billing (issue 15): providers, integrations' activation credentials and
their pending state after a provider replacement, licenses, per-user billing's history,
frozen statements. Integrations made before stay activated (``pending_since`` null).

Revision ID: 0015_providers_billing
Revises: 0014_self_service
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_providers_billing"
down_revision = "0014_self_service"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("billing_model", sa.String(length=24), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("deleted_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
    )
    op.create_index(op.f("ix_providers_tenant_id"), "providers", ["tenant_id"])
    op.create_table(
        "integration_activations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("password_hash", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_activations_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_activations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_integration_activations_code_hash")),
    )
    op.create_index(
        op.f("ix_integration_activations_integration_id"),
        "integration_activations",
        ["integration_id"],
    )
    # A plain ALTER (no batch): a rebuilt ``integrations`` would cascade to its children.
    op.add_column("integrations", sa.Column("pending_since", sa.Float(), nullable=True))
    op.create_table(
        "license_pools",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_license_pools_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_license_pools")),
    )
    op.create_table(
        "license_assignments",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_license_assignments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_license_assignments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_license_assignments")),
    )
    op.create_index(op.f("ix_license_assignments_tenant_id"), "license_assignments", ["tenant_id"])
    op.create_table(
        "billing_user_states",
        sa.Column("seq", BigId, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("user_name", sa.String(length=256), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("mfa", sa.String(length=16), nullable=False),
        sa.Column("licensed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_billing_user_states")),
    )
    op.create_index(
        op.f("ix_billing_user_states_tenant_id_user_id_at"),
        "billing_user_states",
        ["tenant_id", "user_id", "at"],
    )
    op.create_table(
        "billing_statements",
        sa.Column("provider_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("frozen_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("provider_id", "month", name=op.f("pk_billing_statements")),
    )
    # The history starts with every user as they are now: a month that began before this
    # migration counts them from the migration on (there is no earlier record to read).
    op.execute(
        "INSERT INTO billing_user_states (tenant_id, user_id, user_name, at, mfa, licensed) "
        "SELECT tenant_id, id, name, created_at, mfa, false FROM users"
    )


def downgrade() -> None:
    op.drop_table("billing_statements")
    op.drop_index(
        op.f("ix_billing_user_states_tenant_id_user_id_at"), table_name="billing_user_states"
    )
    op.drop_table("billing_user_states")
    op.drop_index(op.f("ix_license_assignments_tenant_id"), table_name="license_assignments")
    op.drop_table("license_assignments")
    op.drop_table("license_pools")
    op.drop_column("integrations", "pending_since")  # SQLite 3.35 and later
    op.drop_index(
        op.f("ix_integration_activations_integration_id"), table_name="integration_activations"
    )
    op.drop_table("integration_activations")
    op.drop_index(op.f("ix_providers_tenant_id"), table_name="providers")
    op.drop_table("providers")
