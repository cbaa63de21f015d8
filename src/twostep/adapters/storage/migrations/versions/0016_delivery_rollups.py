"""Deliveries by destination country (issue 15, item 5): texts, calls and emails counted
per tenant, UTC day, kind and destination country, with failures and SMS segments, written
in the transaction that records each delivery's outcome (services/delivered.py).

Revision ID: 0016_delivery_rollups
Revises: 0015_providers_billing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_delivery_rollups"
down_revision = "0015_providers_billing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_rollups",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("sent", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "day", "kind", "country", name=op.f("pk_delivery_rollups")
        ),
    )
    op.create_index(op.f("ix_delivery_rollups_day"), "delivery_rollups", ["day"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_delivery_rollups_day"), table_name="delivery_rollups")
    op.drop_table("delivery_rollups")
