"""What every page of the management portal shares: the seat (a signed-in visit whose role
allows the page, with the actor the services know), the tenant in the path, the answer to
a service's refusal, and short notices after an action.

Every handler: ``seat = portal.seat(request, Permission.X)`` (a ``Response`` when refused:
return it), then one service call with ``seat.actor``, then ``portal.render``. A POST
checks its form token before anything else (``portal.seat(request, P, csrf=...)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from twostep.bootstrap import App
from twostep.domain.entities import AdminKey
from twostep.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TenantNotFound,
    TwostepError,
)
from twostep.domain.pages import PageSession
from twostep.domain.permissions import Permission, allows
from twostep.interfaces.web import texts
from twostep.interfaces.web.admin import AdminPages
from twostep.interfaces.web.pages import Pages, Visit
from twostep.interfaces.web.portal import words

T = TypeVar("T")
PAGE = 50  # rows per page of every list


@dataclass(frozen=True, slots=True)
class Seat:
    visit: Visit
    session: PageSession
    actor: AdminKey

    def can(self, permission: Permission) -> bool:
        return allows(self.session.role, permission)


class Portal:
    def __init__(self, admin: AdminPages) -> None:
        self.admin = admin
        self.pages: Pages = admin.pages
        self.app: App = admin.pages.app

    def seat(
        self, request: Request, permission: Permission, csrf: object = None
    ) -> Seat | Response:
        visit = self.pages.visit(request)
        if request.method == "POST":
            self.pages.check_form(visit, csrf)
        refused = self.admin.guard(visit, permission)
        if refused is not None:
            return refused
        session = visit.signed_in
        assert session is not None
        return Seat(visit, session, self.admin.actor(visit))

    def home_tenant(self, seat: Seat) -> str:
        """The tenant a page without one in its path shows: the admin's own, else the
        first they manage (a tenant admin granted over another tenant)."""
        if seat.actor.may_manage(seat.session.tenant_id):
            return seat.session.tenant
        managed = self.app.admin.list_tenants(seat.actor)
        return managed[0].name if managed else seat.session.tenant

    def render(
        self, seat: Seat, template: str, tenant: str, status: int = 200, **values: Any
    ) -> Response:
        can = {p.name.lower(): seat.can(p) for p in Permission}
        notice = seat.visit.request.query_params.get("done")
        return self.pages.render(
            seat.visit,
            template,
            status=status,
            tenant=tenant,
            can=can,
            notice=words.NOTICES.get(notice or ""),
            when=when,
            statuses=words.STATUSES,
            **values,
        )

    def call(self, seat: Seat, work: Callable[[], T]) -> T | Response:
        """The service's answer, or the page that says why it refused."""
        try:
            return work()
        except TwostepError as exc:
            return self.failed(seat, exc)

    def failed(self, seat: Seat, exc: TwostepError) -> Response:
        """A refusal as a page. Another tenant (or none) is "not allowed", with nothing of
        what was asked for: a tenant admin learns no other tenant's names or data."""
        if isinstance(exc, TenantNotFound | Forbidden):
            status, title, message = 403, texts.N_("Not allowed"), words.OTHER_TENANT
            detail, code = None, None
        else:
            status, title, message = _status(exc), words.FAILED_TITLE, words.FAILED
            detail, code = exc.message, exc.code
        return self.pages.render(
            seat.visit,
            "admin/failed.html",
            status=status,
            title=title,
            message=message,
            detail=detail,
            code=code,
            tenant=None,
            can={},
            notice=None,
        )

    def back(self, seat: Seat, to: str, done: str) -> Response:
        """After an action: the page again, with a notice (one of ``words.NOTICES``)."""
        return self.pages.redirect(seat.visit, f"{to}?done={done}")


def _status(exc: TwostepError) -> int:
    for kind, status in ((NotFound, 404), (Conflict, 409), (RateLimited, 429)):
        if isinstance(exc, kind):
            return status
    return 422 if isinstance(exc, InvalidInput) else 400


def when(at: float | None) -> str:
    """A time as the pages show it: UTC, to the second."""
    if at is None:
        return ""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def tenant_path(tenant: str, *parts: str) -> str:
    """``/admin/tenants/<tenant>/<part>/...``, each part quoted."""
    return "/".join(["/admin/tenants", quote(tenant, safe=""), *(quote(p, safe="") for p in parts)])
