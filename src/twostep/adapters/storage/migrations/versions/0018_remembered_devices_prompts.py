"""Remembered browsers and custom voice prompts (issue 16), and the two-way SMS timeout's
new ceiling.

- ``remembered_devices``: a browser a user chose to have remembered after a second factor at
  the hosted sign-in page or the self-service portal. Only the keyed digest of the cookie's
  secret is kept, so a database copy cannot mint a cookie; a row gone is a device revoked.
- ``voice_prompts``: a tenant's recorded audio for one prompt of a call in one language.
- ``sms_reply_timeout`` is at most 600 s now (MFA Server's ceiling): stored settings above
  that are lowered to 600, so every tenant's settings still load.

Revision ID: 0018_remembered_devices_prompts
Revises: 0017_bypass_trusted_networks
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0018_remembered_devices_prompts"
down_revision = "0017_bypass_trusted_networks"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SMS_REPLY_CEILING = 600


def upgrade() -> None:
    op.create_table(
        "remembered_devices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("page", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_remembered_devices_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_remembered_devices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remembered_devices")),
    )
    op.create_index(
        op.f("ix_remembered_devices_user_id"), "remembered_devices", ["user_id"], unique=False
    )
    op.create_table(
        "voice_prompts",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.String(length=24), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("audio", sa.LargeBinary(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_voice_prompts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "language", "prompt", name=op.f("pk_voice_prompts")),
        sa.UniqueConstraint("id", name=op.f("uq_voice_prompts_id")),
    )
    tenants = sa.table("tenants", sa.column("id", sa.Integer), sa.column("settings", sa.Text))
    connection = op.get_bind()
    for tenant_id, text in connection.execute(sa.select(tenants.c.id, tenants.c.settings)):
        settings = json.loads(text)
        timeout = settings.get("sms_reply_timeout")
        if isinstance(timeout, int) and timeout > SMS_REPLY_CEILING:
            settings["sms_reply_timeout"] = SMS_REPLY_CEILING
            connection.execute(
                tenants.update()
                .where(tenants.c.id == tenant_id)
                .values(settings=json.dumps(settings))
            )


def downgrade() -> None:
    # The lowered timeouts stay lowered: 600 s is within the old range too.
    op.drop_table("voice_prompts")
    op.drop_index(op.f("ix_remembered_devices_user_id"), table_name="remembered_devices")
    op.drop_table("remembered_devices")
