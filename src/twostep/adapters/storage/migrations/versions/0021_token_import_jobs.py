"""token_import_jobs: the management portal's token imports, run in a worker's background
thread, their phase and counts readable from any worker (issue 14: "progress"). The file
and its key or password are never stored.

Revision ID: 0021_token_import_jobs
Revises: 0020_method_extensions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_token_import_jobs"
down_revision = "0020_method_extensions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_import_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=128), nullable=False),
        sa.Column("started_by", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("alive_until", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_token_import_jobs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_import_jobs")),
    )
    op.create_index(
        op.f("ix_token_import_jobs_tenant_id_started_at"),
        "token_import_jobs",
        ["tenant_id", "started_at"],
    )
    # One running import per tenant, held by the database: two uploads racing on two
    # workers cannot both start.
    op.create_index(
        "ix_token_import_jobs_running",
        "token_import_jobs",
        ["tenant_id"],
        unique=True,
        sqlite_where=sa.text("state = 'running'"),
        postgresql_where=sa.text("state = 'running'"),
    )


def downgrade() -> None:
    op.drop_index("ix_token_import_jobs_running", table_name="token_import_jobs")
    op.drop_index(op.f("ix_token_import_jobs_tenant_id_started_at"), table_name="token_import_jobs")
    op.drop_table("token_import_jobs")
