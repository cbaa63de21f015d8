"""The admin trail: ``GET /v1/tenants/{tenant}/admin-events`` (a tenant's changes) and
``GET /v1/admin-events`` (every tenant's and the global ones, for global admins). JSON
with a cursor, or CSV (``Accept: text/csv``)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from twostep.bootstrap import App
from twostep.domain.admin_events import AdminEvent
from twostep.domain.entities import AdminKey
from twostep.interfaces.admin_event_rows import admin_event_row, parse_time, write_csv
from twostep.interfaces.http.deps import AdminDep, AppDep

router = APIRouter(tags=["admin events"])

_TIME: dict[str, Any] = {
    "min_length": 1,
    "max_length": 40,
    "json_schema_extra": {"format": "date-time"},
}


@dataclass(frozen=True, slots=True)
class Filters:
    action: str | None
    actor: str | None
    target: str | None
    since: str | None
    until: str | None
    cursor: str | None
    limit: int


def _filters(
    action: Annotated[
        str | None,
        Query(
            max_length=48,
            pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*\.?$",
            description='an action ("user.update"), or a prefix ending in "." ("user.")',
        ),
    ] = None,
    actor: Annotated[
        str | None, Query(max_length=64, description='an admin key id, or "operator"')
    ] = None,
    target: Annotated[str | None, Query(max_length=512)] = None,
    since: Annotated[str | None, Query(description="inclusive", **_TIME)] = None,
    until: Annotated[str | None, Query(description="exclusive", **_TIME)] = None,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,18}$", description="next_cursor of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Filters:
    return Filters(action, actor, target, since, until, cursor, limit)


FiltersDep = Annotated[Filters, Depends(_filters)]
_CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


@router.get("/v1/tenants/{tenant}/admin-events", responses=_CSV)
def tenant_admin_events(
    tenant: str, request: Request, app: AppDep, actor: AdminDep, filters: FiltersDep
) -> Response:
    """The tenant's admin events, oldest first."""
    return _answer(request, _query(app, actor, tenant, filters), filters.limit)


@router.get("/v1/admin-events", responses=_CSV)
def admin_events(request: Request, app: AppDep, actor: AdminDep, filters: FiltersDep) -> Response:
    """Every admin event (every tenant's, and the global ones: tenants, admin keys,
    key rotation), oldest first: global admins only."""
    return _answer(request, _query(app, actor, None, filters), filters.limit)


def _query(app: App, actor: AdminKey, tenant: str | None, f: Filters) -> list[AdminEvent]:
    return list(
        app.admin_events.query(
            actor,
            tenant,
            action=f.action,
            actor_key=f.actor,
            target=f.target,
            since=parse_time(f.since, "since"),
            until=parse_time(f.until, "until"),
            after_seq=int(f.cursor) if f.cursor is not None else None,
            limit=f.limit,
        )
    )


def _answer(request: Request, events: list[AdminEvent], limit: int) -> Response:
    next_cursor = str(events[-1].seq) if len(events) == limit else None
    if "text/csv" in request.headers.get("accept", ""):
        buffer = io.StringIO()
        write_csv(buffer, events)
        headers = {"X-Next-Cursor": next_cursor} if next_cursor else {}
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    rows = [admin_event_row(e) for e in events]
    return JSONResponse({"events": rows, "next_cursor": next_cursor})
