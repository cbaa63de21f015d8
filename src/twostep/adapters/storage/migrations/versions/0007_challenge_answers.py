"""challenges.reported_at and challenges.state_used_at: answers that come after the decision

A fraud report ("this wasn't me") that loses the race to an approval, or comes after a
denial or the expiry, does not change the sign-in's outcome, but must never be lost: the
first report of a challenge sets ``reported_at`` (a conditional update), records the
event, locks the user and alerts; any later report is a replay.

A RADIUS State is single use: the first Access-Request that carries it sets
``state_used_at`` (a conditional update); another one carrying it is refused as a replay.

Revision ID: 0007_challenge_answers
Revises: 0006_user_names
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_challenge_answers"
down_revision = "0006_user_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_at", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("state_used_at", sa.Float(), nullable=True))
    # Challenges already rejected as fraud were reported: a second report is a replay.
    op.execute("UPDATE challenges SET reported_at = finished_at WHERE reason = 'fraud_reported'")


def downgrade() -> None:
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_column("state_used_at")
        batch_op.drop_column("reported_at")
