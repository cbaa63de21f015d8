"""``GET /v1/reports/usage`` and ``/v1/reports/deliveries`` (issue 15): counts of audit
events and deliveries by destination country for a tenant, a provider or every tenant;
JSON, or CSV with ``Accept: text/csv`` (as the audit log and the statements)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Annotated, Any, TextIO

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from twostep.domain.entities import AdminKey
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.usage_rows import (
    delivery_row,
    report_body,
    write_counts_csv,
    write_deliveries_csv,
)
from twostep.services.reports import UsageReport, parse_day, parse_group_by

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Tenant = Annotated[
    str | None, Query(min_length=1, max_length=64, description="one tenant (default: every one)")
]
Provider = Annotated[
    str | None,
    Query(min_length=1, max_length=32, description="one provider's id: its linked tenant"),
]
Day = Annotated[str, Query(min_length=1, max_length=10, description="YYYY-MM-DD, UTC")]
GroupBy = Annotated[
    str,
    Query(
        max_length=80,
        description="comma-separated: day, integration, interface, method, result, reason",
    ),
]
_CSV = {200: {"content": {"text/csv": {}}}, **errors(403, 404)}


def _report(
    app: AppDep,
    actor: AdminKey,
    tenant: str | None,
    provider: str | None,
    first: str,
    last: str,
    group_by: str,
) -> UsageReport:
    return app.reports.usage(
        actor,
        tenant=tenant,
        provider=provider,
        first=parse_day(first, "from"),
        last=parse_day(last, "to"),
        group_by=parse_group_by(group_by),
    )


def _csv(write: Callable[[TextIO, UsageReport], None], report: UsageReport) -> Response:
    buffer = io.StringIO()
    write(buffer, report)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")


@router.get("/usage", responses=_CSV, name="reports.usage")
def usage(
    request: Request,
    app: AppDep,
    actor: AdminDep,
    first: Annotated[str, Query(alias="from", min_length=1, max_length=10)],
    last: Annotated[str, Query(alias="to", min_length=1, max_length=10)],
    tenant: Tenant = None,
    provider: Provider = None,
    group_by: GroupBy = "day",
) -> Response:
    """Audit events counted by the ``group_by`` dimensions over the days ``from``..``to``
    (inclusive, UTC, at most 400), with deliveries by country; from the rollups."""
    report = _report(app, actor, tenant, provider, first, last, group_by)
    if "text/csv" in request.headers.get("accept", ""):
        return _csv(write_counts_csv, report)
    return JSONResponse(report_body(report))


@router.get("/deliveries", responses=_CSV, name="reports.deliveries")
def deliveries(
    request: Request,
    app: AppDep,
    actor: AdminDep,
    first: Annotated[str, Query(alias="from", min_length=1, max_length=10)],
    last: Annotated[str, Query(alias="to", min_length=1, max_length=10)],
    tenant: Tenant = None,
    provider: Provider = None,
) -> Response:
    """Texts, calls and emails by destination country and kind over ``from``..``to``:
    sent, failed, and SMS segments sent (the cost drivers per country)."""
    report = _report(app, actor, tenant, provider, first, last, "")
    if "text/csv" in request.headers.get("accept", ""):
        return _csv(write_deliveries_csv, report)
    body: dict[str, Any] = {
        "tenant": report.tenant,
        "provider": report.provider.id if report.provider else None,
        "from": report.first.isoformat(),
        "to": report.last.isoformat(),
        "deliveries": [delivery_row(d) for d in report.deliveries],
    }
    return JSONResponse(body)
