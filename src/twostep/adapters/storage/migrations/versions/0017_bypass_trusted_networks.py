"""One-time bypass and trusted networks (issue 16, item 5): a user's bypass window
(``users.bypass_until``, cleared by the one sign-in that uses it) and the integration flag
saying that the client addresses it sends may meet the tenant's trusted networks.

Revision ID: 0017_bypass_trusted_networks
Revises: 0016_delivery_rollups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_bypass_trusted_networks"
down_revision = "0016_delivery_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("bypass_until", sa.Float(), nullable=True))
    op.add_column(
        "integrations",
        sa.Column("trusted_client_addresses", sa.Boolean(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("integrations", "trusted_client_addresses")  # SQLite 3.35 and later
    op.drop_column("users", "bypass_until")
