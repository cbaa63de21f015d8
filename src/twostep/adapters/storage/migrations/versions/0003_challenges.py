"""challenges, gateways, delivery counts: the phone methods

Out-of-band methods create a challenge that any node can finish; gateways are a
tenant's delivery providers (credentials sealed); deliveries count texts and calls in
a sliding window for the abuse limits. A phone method keeps its own number; a user
may have a language for the texts and calls.

Revision ID: 0003_challenges
Revises: 0002_token_pool
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_challenges"
down_revision = "0002_token_pool"
branch_labels = None
depends_on = None


_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", sa.String(length=48), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", _BIG_ID, nullable=False),
        sa.Column("method_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=True),
        sa.Column("code_hash", sa.LargeBinary(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("destination", sa.String(length=320), nullable=True),
        sa.Column("integration", sa.String(length=128), nullable=True),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.Column("interface", sa.String(length=16), nullable=False),
        sa.Column("sends", sa.Integer(), server_default="1", nullable=False),
        sa.Column("last_sent_at", sa.Float(), nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_challenges_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_challenges_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_challenges"),
    )
    op.create_index(
        "ix_challenges_tenant_id_destination_state",
        "challenges",
        ["tenant_id", "destination", "state"],
    )
    op.create_index("ix_challenges_user_id_state", "challenges", ["user_id", "state"])
    op.create_index("ix_challenges_expires_at", "challenges", ["expires_at"])
    op.create_table(
        "gateways",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("secrets", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_gateways_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_gateways"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_gateways_tenant_id_name"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", _BIG_ID, nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
    )
    op.create_index("ix_deliveries_user_id_at", "deliveries", ["user_id", "at"])
    op.create_index("ix_deliveries_tenant_id_at", "deliveries", ["tenant_id", "at"])
    with op.batch_alter_table("methods", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("detail")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
    # Phone methods cannot live without their number.
    op.execute("DELETE FROM methods WHERE kind IN ('sms', 'sms_reply', 'voice')")
    with op.batch_alter_table("methods", schema=None) as batch_op:
        batch_op.drop_column("phone")
    op.drop_index("ix_deliveries_tenant_id_at", table_name="deliveries")
    op.drop_index("ix_deliveries_user_id_at", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("gateways")
    op.drop_index("ix_challenges_expires_at", table_name="challenges")
    op.drop_index("ix_challenges_user_id_state", table_name="challenges")
    op.drop_index("ix_challenges_tenant_id_destination_state", table_name="challenges")
    op.drop_table("challenges")
