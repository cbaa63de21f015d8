"""radius_clients, users.password_hash: the RADIUS server

A RADIUS client (a VPN, a gateway) is an integration with a network and a sealed shared
secret; a user may have a local primary password (argon2id) for the password+code mode.

Revision ID: 0004_radius_clients
Revises: 0003_challenges
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_radius_clients"
down_revision = "0003_challenges"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "radius_clients",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("mode", sa.String(length=24), nullable=False),
        sa.Column("require_message_authenticator", sa.Boolean(), nullable=False),
        sa.Column("limit_proxy_state", sa.Boolean(), nullable=False),
        sa.Column("push_wait_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_radius_clients_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name="fk_radius_clients_integration_id_integrations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_radius_clients"),
        sa.UniqueConstraint("integration_id", name="uq_radius_clients_integration_id"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_radius_clients_tenant_id_name"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_hash")
    # Their integrations only named them: remove those too, so no key-less integration stays.
    op.execute("DELETE FROM integrations WHERE id IN (SELECT integration_id FROM radius_clients)")
    op.drop_table("radius_clients")
