"""The sign-in audit and the admin trail: filters (user, result, method, time range; the
trail's action and target), pages of ``PAGE`` by the store's sequence (the indexes
``(tenant_id, seq)``, ``(tenant_id, user_name, seq)``, ``(tenant_id, at)``), and a CSV
download of the same filters (up to ``CSV_ROWS`` rows from the page's start) by the
existing CSV writers, which quote cells a spreadsheet would run as formulas."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from twostep.domain.entities import MethodKind, Role
from twostep.domain.errors import InvalidInput
from twostep.domain.permissions import Permission
from twostep.interfaces import admin_event_rows, audit_rows
from twostep.interfaces.web import security, texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal import words
from twostep.interfaces.web.portal.base import PAGE, Portal, Seat, tenant_path, when

CSV_ROWS = 1000  # the services' largest page
DEFAULT_HOURS = 24  # without a time range: the last day


@dataclass(frozen=True, slots=True)
class Filters:
    user: str
    result: str
    method: str
    action: str
    since: str  # as typed (datetime-local, UTC)
    until: str
    after: int | None

    def query(self) -> dict[str, str]:
        given = {
            "user": self.user,
            "result": self.result,
            "method": self.method,
            "action": self.action,
            "since": self.since,
            "until": self.until,
        }
        return {k: v for k, v in given.items() if v}


def _filters(request: Request, now: float) -> Filters:
    q = request.query_params
    since = field(q.get("since", ""))[:32]
    until = field(q.get("until", ""))[:32]
    if not since and not until:
        since = _typed(now - DEFAULT_HOURS * 3600)
    after = field(q.get("after", ""))
    if after and (not after.isdigit() or len(after) > 18):
        raise InvalidInput("the page cursor is not one this page gave out", field="after")
    return Filters(
        user=field(q.get("user", "")).strip()[:256],
        result=field(q.get("result", ""))[:16],
        method=field(q.get("method", ""))[:16],
        action=field(q.get("action", "")).strip()[:64],
        since=since,
        until=until,
        after=int(after) if after else None,
    )


def _typed(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M")


def _time(value: str, name: str) -> float | None:
    """A datetime-local value (``2026-12-05T09:30``), read as UTC; a zone, if given, kept."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"{name} must be a date and time", field=name) from exc


class AuditPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def routes(self, router: APIRouter) -> None:
        base = "/admin/tenants/{tenant}"
        router.add_api_route(base + "/audit", self.signins, methods=["GET"])
        router.add_api_route(base + "/audit.csv", self.signins_csv, methods=["GET"])
        router.add_api_route(base + "/admin-audit", self.trail, methods=["GET"])
        router.add_api_route(base + "/admin-audit.csv", self.trail_csv, methods=["GET"])

    # -- sign-ins ----------------------------------------------------------------------

    def _signins(self, seat: Seat, tenant: str, limit: int) -> tuple[Filters, Any]:
        f = _filters(seat.visit.request, self.portal.app.deps.clock.now())
        if f.result and f.result not in words.RESULTS:
            raise InvalidInput("result must be accept, reject or challenge", field="result")
        if f.method and f.method not in {k.value for k in MethodKind}:
            raise InvalidInput("method is not a method kind", field="method")
        events = self.portal.app.audit.query(
            seat.actor,
            tenant,
            user=f.user or None,
            result=f.result or None,
            method=f.method or None,
            since=_time(f.since, "since"),
            until=_time(f.until, "until"),
            after_seq=f.after,
            limit=limit,
        )
        return f, events

    def signins(self, request: Request, tenant: str) -> Response:
        seat = self.portal.seat(request, Permission.AUDIT_READ)
        if isinstance(seat, Response):
            return seat
        found = self.portal.call(seat, lambda: self._signins(seat, tenant, PAGE + 1))
        if isinstance(found, Response):
            return found
        f, events = found
        shown = list(events)[:PAGE]
        return self.portal.render(
            seat,
            "admin/audit.html",
            tenant,
            title=texts.N_("Sign-in audit"),
            f=f,
            events=shown,
            results=words.RESULTS,
            kinds={k.value: v for k, v in texts.KINDS.items()},
            next_query={**f.query(), "after": str(shown[-1].seq)} if len(events) > PAGE else None,
            csv_query={**f.query(), **({"after": str(f.after)} if f.after else {})},
            path=lambda *parts: tenant_path(tenant, *parts),
            time=when,
        )

    def signins_csv(self, request: Request, tenant: str) -> Response:
        seat = self.portal.seat(request, Permission.AUDIT_READ)
        if isinstance(seat, Response):
            return seat
        found = self.portal.call(seat, lambda: self._signins(seat, tenant, CSV_ROWS))
        if isinstance(found, Response):
            return found
        out = io.StringIO()
        audit_rows.write_csv(out, found[1], full_phone=seat.actor.role is Role.GLOBAL_ADMIN)
        return _csv(out.getvalue(), "audit.csv")

    # -- the admin trail ---------------------------------------------------------------

    def _trail(self, seat: Seat, tenant: str, limit: int) -> tuple[Filters, Any]:
        f = _filters(seat.visit.request, self.portal.app.deps.clock.now())
        events = self.portal.app.admin_events.query(
            seat.actor,
            tenant,
            action=f.action or None,
            target=f.user or None,
            since=_time(f.since, "since"),
            until=_time(f.until, "until"),
            after_seq=f.after,
            limit=limit,
        )
        return f, events

    def trail(self, request: Request, tenant: str) -> Response:
        seat = self.portal.seat(request, Permission.AUDIT_READ)
        if isinstance(seat, Response):
            return seat
        found = self.portal.call(seat, lambda: self._trail(seat, tenant, PAGE + 1))
        if isinstance(found, Response):
            return found
        f, events = found
        shown = list(events)[:PAGE]
        return self.portal.render(
            seat,
            "admin/admin_audit.html",
            tenant,
            title=texts.N_("Admin audit"),
            f=f,
            events=shown,
            next_query={**f.query(), "after": str(shown[-1].seq)} if len(events) > PAGE else None,
            csv_query={**f.query(), **({"after": str(f.after)} if f.after else {})},
            path=lambda *parts: tenant_path(tenant, *parts),
            time=when,
        )

    def trail_csv(self, request: Request, tenant: str) -> Response:
        seat = self.portal.seat(request, Permission.AUDIT_READ)
        if isinstance(seat, Response):
            return seat
        found = self.portal.call(seat, lambda: self._trail(seat, tenant, CSV_ROWS))
        if isinstance(found, Response):
            return found
        out = io.StringIO()
        admin_event_rows.write_csv(out, found[1])
        return _csv(out.getvalue(), "admin-audit.csv")


def _csv(body: str, name: str) -> Response:
    response = Response(body, media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return security.secure(response)
