"""The sign-in audit and the admin trail: one set of filters (user, result, method, time
range; the trail's action and target) read here, and for each log its query; the pages of
``PAGE`` by the store's sequence (the indexes ``(tenant_id, seq)``, ``(tenant_id, user_name,
seq)``, ``(tenant_id, at)``) and the CSV download of the same filters are the shared flows
of portal/listing.py, by the existing CSV writers (which quote cells a spreadsheet would run
as formulas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

from fastapi import APIRouter, Request

from twostep.domain.entities import MethodKind, Role
from twostep.domain.errors import InvalidInput
from twostep.domain.permissions import Permission
from twostep.interfaces import admin_event_rows, audit_rows
from twostep.interfaces.web import texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal import words
from twostep.interfaces.web.portal.base import Portal, Seat
from twostep.interfaces.web.portal.listing import Listing

DEFAULT_HOURS = 24  # without a time range: the last day


class Paging(TypedDict):
    """A log query's time range, cursor and size, as both logs' services take them."""

    since: float | None
    until: float | None
    after_seq: int | None
    limit: int


@dataclass(frozen=True, slots=True)
class Filters:
    user: str
    result: str
    method: str
    action: str
    since: str  # as typed (datetime-local, UTC)
    until: str
    after: int | None

    def page(self, limit: int) -> Paging:
        """The time range (read as UTC), the cursor and ``limit``, as both logs' queries
        take them."""
        since, until = _time(self.since, "since"), _time(self.until, "until")
        return Paging(since=since, until=until, after_seq=self.after, limit=limit)

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
        signins = Listing(self.portal, Permission.AUDIT_READ, "audit")
        signins.log(
            router,
            "admin/audit.html",
            self._signins,
            lambda seat, out, events: audit_rows.write_csv(
                out, events, full_phone=seat.actor.role is Role.GLOBAL_ADMIN
            ),
            title=texts.N_("Sign-in audit"),
            results=words.RESULTS,
            kinds={k.value: v for k, v in texts.KINDS.items()},
        )
        trail = Listing(self.portal, Permission.AUDIT_READ, "admin-audit")
        trail.log(
            router,
            "admin/admin_audit.html",
            self._trail,
            lambda _seat, out, events: admin_event_rows.write_csv(out, events),
            title=texts.N_("Admin audit"),
        )

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
            **f.page(limit),
        )
        return f, events

    def _trail(self, seat: Seat, tenant: str, limit: int) -> tuple[Filters, Any]:
        f = _filters(seat.visit.request, self.portal.app.deps.clock.now())
        events = self.portal.app.admin_events.query(
            seat.actor, tenant, action=f.action or None, target=f.user or None, **f.page(limit)
        )
        return f, events
