"""devices, activations, push challenges: the mobile authenticator

A device is one activated authenticator app: its public key (never a private one), its
push channel (sealed) and its state. An activation is a single-use code (stored as a
keyed digest) that lets a device register. Push challenges name their device and carry
the number to match and the nonce the device signs.

Revision ID: 0005_devices
Revises: 0004_radius_clients
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_devices"
down_revision = "0004_radius_clients"
branch_labels = None
depends_on = None


_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", _BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("key_type", sa.String(length=8), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("push_kind", sa.String(length=16), nullable=False),
        sa.Column("push_channel", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_seen_at", sa.Float(), nullable=True),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_devices_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_devices_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
    )
    op.create_index("ix_devices_user_id", "devices", ["user_id"])
    op.create_table(
        "activations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", _BIG_ID, nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.Column("replaces", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_activations_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_activations_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_activations"),
        sa.UniqueConstraint("code_hash", name="uq_activations_code_hash"),
    )
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("nonce", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("message", sa.String(length=255), nullable=True))
        batch_op.create_index("ix_challenges_device_id_state", ["device_id", "state"])
    with op.batch_alter_table("methods", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # Push and offline-code methods belong to devices: they leave with them.
    op.execute("DELETE FROM methods WHERE device_id IS NOT NULL")
    with op.batch_alter_table("methods", schema=None) as batch_op:
        batch_op.drop_column("device_id")
    op.execute("DELETE FROM challenges WHERE kind = 'app_push'")
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_index("ix_challenges_device_id_state")
        batch_op.drop_column("message")
        batch_op.drop_column("nonce")
        batch_op.drop_column("number")
        batch_op.drop_column("device_id")
    op.drop_table("activations")
    op.drop_index("ix_devices_user_id", table_name="devices")
    op.drop_table("devices")
