"""RADIUS client options as Azure MFA Server had them (issue 16, item 6): "require user
match" (on for every client made before), the OATH fallback (off), the primary password's
checker (``none``: as before) and the upstream RADIUS servers it may proxy to, in order,
their shared secrets sealed.

Revision ID: 0019_radius_client_options
Revises: 0018_remembered_devices_prompts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_radius_client_options"
down_revision = "0018_remembered_devices_prompts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "radius_clients",
        sa.Column("require_user_match", sa.Boolean(), server_default="1", nullable=False),
    )
    op.add_column(
        "radius_clients",
        sa.Column("oath_fallback", sa.Boolean(), server_default="0", nullable=False),
    )
    op.add_column(
        "radius_clients",
        sa.Column("primary_auth", sa.String(length=16), server_default="none", nullable=False),
    )
    op.create_table(
        "radius_upstreams",
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["radius_clients.id"],
            name=op.f("fk_radius_upstreams_client_id_radius_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "position", name=op.f("pk_radius_upstreams")),
    )


def downgrade() -> None:
    op.drop_table("radius_upstreams")
    op.drop_column("radius_clients", "primary_auth")  # SQLite 3.35 and later
    op.drop_column("radius_clients", "oath_fallback")
    op.drop_column("radius_clients", "require_user_match")
