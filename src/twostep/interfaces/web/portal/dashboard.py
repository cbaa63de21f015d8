"""The dashboard (``/admin``: the admin's own tenant; ``/admin/tenants/<t>``: another they
manage) and the tenants list with its switch (``/admin/tenants``).

The figures come from the usage service (rollups plus their tail: services/usage.py) and
the gateways' health (services/gateway_health.py), never a scan of the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twostep.domain.entities import MethodKind
from twostep.domain.permissions import Permission
from twostep.interfaces.web import texts
from twostep.interfaces.web.portal import words
from twostep.interfaces.web.portal.base import Portal, Seat

# The last hour: the gateways' activity is read from the audit events of the window (by
# (tenant_id, at)); a day of a busy tenant is too many rows for a page read every visit.
# The gateways page shows the last 24 hours.
HEALTH_HOURS = 1


class DashboardPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def routes(self, router: APIRouter) -> None:
        router.add_api_route("/admin", self.home, methods=["GET"])
        router.add_api_route("/admin/tenants", self.tenants, methods=["GET"])
        router.add_api_route("/admin/tenants/{tenant}", self.dashboard, methods=["GET"])

    def home(self, request: Request) -> Response:
        seat = self.portal.seat(request, Permission.DASHBOARD_READ)
        if isinstance(seat, Response):
            return seat
        return self._show(seat, self.portal.home_tenant(seat))

    def dashboard(self, request: Request, tenant: str) -> Response:
        seat = self.portal.seat(request, Permission.DASHBOARD_READ)
        if isinstance(seat, Response):
            return seat
        return self._show(seat, tenant)

    def _show(self, seat: Seat, tenant: str) -> Response:
        app = self.portal.app
        figures = self.portal.call(seat, lambda: app.usage.dashboard(seat.actor, tenant))
        if isinstance(figures, Response):
            return figures
        health = self.portal.call(
            seat, lambda: app.gateways.health(seat.actor, tenant, HEALTH_HOURS)
        )
        if isinstance(health, Response):
            return health
        methods = sorted(
            ((_method_text(m), n) for m, n in figures.by_method.items()), key=lambda p: -p[1]
        )
        results = [
            (words.RESULTS.get(r, r), figures.by_result.get(r, 0)) for r in words.RESULTS
        ] + [(r, n) for r, n in figures.by_result.items() if r not in words.RESULTS]
        session = seat.session
        return self.portal.render(
            seat,
            "admin/dashboard.html",
            tenant,
            title=texts.N_("Management portal"),
            role_text=texts.ROLES[session.role.value] if session.role else "",
            figures=figures,
            results=results,
            methods=methods,
            health=health,
            hours=HEALTH_HOURS,
        )

    def tenants(self, request: Request) -> Response:
        seat = self.portal.seat(request, Permission.DASHBOARD_READ)
        if isinstance(seat, Response):
            return seat
        found = self.portal.app.admin.list_tenants(seat.actor)
        return self.portal.render(
            seat,
            "admin/tenants.html",
            self.portal.home_tenant(seat),
            title=texts.N_("Organisations"),
            tenants=[t.name for t in found],
        )


def _method_text(method: str | None) -> str:
    if method is None:
        return words.NO_METHOD
    try:
        return texts.KINDS.get(MethodKind(method), method)
    except ValueError:
        return method
