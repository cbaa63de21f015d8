"""Hosted sign-in (``/signin``): each integration's signing secret and return URLs, and the
one-time use of its requests and results.

``signin_settings``: one row per integration that uses the hosted page; its signing secret
is sealed (AES-256-GCM, bound to ``signin:<integration id>``), its return URLs a JSON list.
``signin_tokens``: the ``jti`` of every request started and every result issued, so a
request link starts one sign-in and a result is redeemed once (a conditional update);
rows past their expiry are swept.

Revision ID: 0011_hosted_signin
Revises: 0010_request_ids
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_hosted_signin"
down_revision = "0010_request_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_settings",
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=True),
        sa.Column("secret_issued_at", sa.Float(), nullable=True),
        sa.Column("return_urls", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_signin_settings_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("integration_id", name=op.f("pk_signin_settings")),
    )
    op.create_table(
        "signin_tokens",
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("jti", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("redeemed_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_signin_tokens_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("integration_id", "kind", "jti", name=op.f("pk_signin_tokens")),
    )
    op.create_index(op.f("ix_signin_tokens_expires_at"), "signin_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_signin_tokens_expires_at"), table_name="signin_tokens")
    op.drop_table("signin_tokens")
    op.drop_table("signin_settings")
