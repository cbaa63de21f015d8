"""``GET /v1/tenants/{tenant}/audit`` and ``/v1/providers/{provider}/audit``: the
authentication report, JSON with a cursor, or CSV."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from twostep.domain.audit import AuditEvent
from twostep.domain.entities import AdminKey, MethodKind, Role
from twostep.domain.errors import InvalidInput
from twostep.domain.results import Result
from twostep.interfaces.audit_rows import audit_row, parse_time, write_csv
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.http.routers.providers import ProviderId

router = APIRouter(tags=["audit"])


# An ISO 8601 time with a zone (RFC 3339), e.g. 2026-01-31T09:00:00Z; "" is refused.
_TIME: dict[str, Any] = {
    "min_length": 1,
    "max_length": 40,
    "json_schema_extra": {"format": "date-time"},
}


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput("cursor is not one this API gave out", field="cursor")
    return int(value)


@dataclass(frozen=True)
class Filters:
    """The authentication report's filters, the same for a tenant's and a provider's."""

    user: str | None
    result: str | None
    method: str | None
    request_id: str | None
    reason: str | None
    integration: str | None
    interface: str | None
    since: float | None
    until: float | None
    after_seq: int | None
    limit: int


def filters(
    user: Annotated[str | None, Query(max_length=256)] = None,
    result: Result | None = None,
    method: MethodKind | None = None,
    request_id: Annotated[
        str | None,
        Query(min_length=1, max_length=128, description="the X-Request-ID of the sign-in"),
    ] = None,
    reason: Annotated[
        str | None,
        Query(pattern=r"^[a-z_]{1,48}$", description="a reason code (docs/error-codes.md)"),
    ] = None,
    integration: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    interface: Annotated[
        str | None, Query(pattern=r"^[a-z]{1,16}$", description="http, radius, web or cli")
    ] = None,
    since: Annotated[str | None, Query(description="inclusive", **_TIME)] = None,
    until: Annotated[str | None, Query(description="exclusive", **_TIME)] = None,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,18}$", description="next_cursor of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Filters:
    return Filters(
        user=user,
        result=result.value if result else None,
        method=method.value if method else None,
        request_id=request_id,
        reason=reason,
        integration=integration,
        interface=interface,
        since=parse_time(since, "since"),
        until=parse_time(until, "until"),
        after_seq=_cursor(cursor),
        limit=limit,
    )


FiltersDep = Annotated[Filters, Depends(filters)]
_ANSWERS: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


@router.get("/v1/tenants/{tenant}/audit", responses=_ANSWERS)
def audit(
    tenant: str, request: Request, app: AppDep, actor: AdminDep, given: FiltersDep
) -> Response:
    """The tenant's audit events (the authentication report), oldest first, a page at a
    time; ``Accept: text/csv`` for CSV."""
    events = app.audit.query(actor, tenant, **asdict(given))
    return _answer(request, actor, events, given.limit)


@router.get("/v1/providers/{provider}/audit", responses={**_ANSWERS, **errors(404)})
def provider_audit(
    provider: ProviderId, request: Request, app: AppDep, actor: AdminDep, given: FiltersDep
) -> Response:
    """The audit events of the provider's linked tenant (none if it has none), as
    ``/v1/tenants/{tenant}/audit`` answers them."""
    events = app.audit.query(actor, None, provider=provider, **asdict(given))
    return _answer(request, actor, events, given.limit)


def _answer(
    request: Request, actor: AdminKey, events: Sequence[AuditEvent], limit: int
) -> Response:
    next_cursor = str(events[-1].seq) if len(events) == limit else None
    if "text/csv" in request.headers.get("accept", ""):
        buffer = io.StringIO()
        # The export is the record of who was called: full numbers for global admins only.
        write_csv(buffer, events, full_phone=actor.role is Role.GLOBAL_ADMIN)
        headers = {"X-Next-Cursor": next_cursor} if next_cursor else {}
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    body: dict[str, Any] = {"events": [audit_row(e) for e in events], "next_cursor": next_cursor}
    return JSONResponse(body)
