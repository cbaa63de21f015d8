"""audit_rollups: two covering indexes in the reports page's order (tenant, day, result,
method, reason, then the count), one for a tenant and one for every tenant (it replaces
the index on the day alone, its prefix). The figures grouped by day, result, method and
reason then stream through an index instead of sorting every rollup row (a cell per
integration and interface too): a month of every tenant's 1,000,000 events went from
about 23 ms to 7 ms of SQLite's time (bench/portal_pages.py, reports).

Revision ID: 0022_usage_rollups_by_result
Revises: 0021_token_import_jobs
"""

from __future__ import annotations

from alembic import op

revision = "0022_usage_rollups_by_result"
down_revision = "0021_token_import_jobs"
branch_labels = None
depends_on = None

COLUMNS = ["day", "result", "method", "reason", "events"]


def upgrade() -> None:
    op.create_index(
        op.f("ix_audit_rollups_tenant_id_day_result_method_reason_events"),
        "audit_rollups",
        ["tenant_id", *COLUMNS],
    )
    op.create_index(
        op.f("ix_audit_rollups_day_result_method_reason_events"), "audit_rollups", COLUMNS
    )
    op.drop_index(op.f("ix_audit_rollups_day"), table_name="audit_rollups")


def downgrade() -> None:
    op.create_index(op.f("ix_audit_rollups_day"), "audit_rollups", ["day"])
    op.drop_index(
        op.f("ix_audit_rollups_day_result_method_reason_events"), table_name="audit_rollups"
    )
    op.drop_index(
        op.f("ix_audit_rollups_tenant_id_day_result_method_reason_events"),
        table_name="audit_rollups",
    )
