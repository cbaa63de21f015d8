"""The reports page: charts of a date range's sign-ins (per day by result and by method,
the refusals' reasons) and a month's statement of a provider, with its CSV.

* ``/admin/tenants/<t>/reports``: one tenant's (``reports.read``: every role; the help
  desk too, since it reads the same sign-ins one by one in the audit).
* ``/admin/reports``: a global admin's over every tenant (the others go to their own
  tenant's page).
* ``.../reports/statement.csv``: the statement as the API's CSV (``billing.read``: not
  the help desk, whom the providers service refuses too).

The figures come from the services: the usage counts (rollups plus their tail, one read
grouped by day, result, method and reason) and the billing service's statement, never a
scan of the audit log. A range is 1 to ``RANGE_DAYS`` UTC days; a bad date, range, month
or provider answers the portal's error page (4xx), as every refused input does.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from twostep.domain.billing import Provider, Statement, parse_month
from twostep.domain.entities import Role
from twostep.domain.errors import ProviderNotFound, ReportRangeInvalid, TenantNotFound
from twostep.domain.permissions import Permission
from twostep.interfaces.billing_rows import write_csv
from twostep.interfaces.web import security, texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal import report_charts
from twostep.interfaces.web.portal.base import Portal, Seat, tenant_path, when

RANGE_DAYS = 366  # a year, leap day included
DEFAULT_DAYS = 30
USERS_SHOWN = 200  # a per-user statement's names on the page (the CSV has them all)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ALL = texts.N_("All organisations")
MODELS = {
    "per_user": texts.N_("Per user: users configured for two-step verification, unlicensed"),
    "per_authentication": texts.N_("Per authentication: completed two-step verifications"),
}


@dataclass(frozen=True, slots=True)
class Query:
    first: dt.date
    last: dt.date
    month: str
    provider: str  # as chosen; "" for the organisation's current provider


def _date(value: str, name: str) -> dt.date:
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ReportRangeInvalid(f"{name} must be a date (YYYY-MM-DD)", field=name) from exc
    if day.year < 1970:
        raise ReportRangeInvalid(f"{name} must be in 1970 or later", field=name)
    return day


def parse(request: Request, today: dt.date) -> Query:
    q = request.query_params
    # Cut only to bound the work: a value past its form's length is refused, not cut.
    last = _date(field(q.get("to", ""))[:32], "to") if q.get("to") else today
    if q.get("from"):
        first = _date(field(q.get("from", ""))[:32], "from")
    else:
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ReportRangeInvalid("the range's first day comes after its last", field="from")
    if (last - first).days >= RANGE_DAYS:
        raise ReportRangeInvalid(f"a range is at most {RANGE_DAYS} days", field="from")
    month = field(q.get("month", ""))[:32] or last.strftime("%Y-%m")
    parse_month(month)  # StatementMonthInvalid
    return Query(first, last, month, field(q.get("provider", ""))[:64])


class ReportPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def routes(self, router: APIRouter) -> None:
        router.add_api_route("/admin/reports", self.everyone, methods=["GET"])
        router.add_api_route("/admin/reports/statement.csv", self.any_csv, methods=["GET"])
        base = "/admin/tenants/{tenant}/reports"
        router.add_api_route(base, self.tenant, methods=["GET"])
        router.add_api_route(base + "/statement.csv", self.statement_csv, methods=["GET"])

    def everyone(self, request: Request) -> Response:
        seat = self.portal.seat(request, Permission.REPORTS_READ)
        if isinstance(seat, Response):
            return seat
        if seat.actor.role is not Role.GLOBAL_ADMIN:  # the others: their own tenant's
            own = tenant_path(self.portal.home_tenant(seat), "reports")
            query = request.url.query
            return self.portal.pages.redirect(seat.visit, f"{own}?{query}" if query else own)
        return self._show(seat, None)

    def tenant(self, request: Request, tenant: str) -> Response:
        seat = self.portal.seat(request, Permission.REPORTS_READ)
        if isinstance(seat, Response):
            return seat
        return self._show(seat, tenant)

    def _show(self, seat: Seat, tenant: str | None) -> Response:
        found = self.portal.call(seat, lambda: self._figures(seat, tenant))
        if isinstance(found, Response):
            return found
        return self.portal.render(
            seat,
            "admin/reports.html",
            tenant or self.portal.home_tenant(seat),
            title=texts.N_("Reports"),
            scope=tenant,
            all_text=ALL,
            models=MODELS,
            time=when,
            **found,
        )

    def _figures(self, seat: Seat, tenant: str | None) -> dict[str, Any]:
        app = self.portal.app
        today = dt.datetime.fromtimestamp(app.deps.clock.now(), dt.UTC).date()
        q = parse(seat.visit.request, today)
        _ = self.portal.pages.gettext(seat.visit.language)
        counts = app.usage.counts(seat.actor, tenant, q.first, q.last, report_charts.BY)
        found = report_charts.tally(counts)
        sent = app.usage.deliveries_by_country(seat.actor, tenant, q.first, q.last)
        figures: dict[str, Any] = {
            "q": q,
            "usage_charts": [
                report_charts.signins_by(_, found, q.first, q.last, "result"),
                report_charts.signins_by(_, found, q.first, q.last, "method"),
                report_charts.denials(_, found, q.first, q.last),
                *report_charts.deliveries(_, seat.visit.language, sent, q.first, q.last),
            ],
            "providers": [],
            "provider": None,
            "statement": None,
        }
        if seat.can(Permission.BILLING_READ):
            figures.update(self._statement(seat, tenant, q, _))
        return figures

    def _statement(self, seat: Seat, tenant: str | None, q: Query, _: Any) -> dict[str, Any]:
        """The chosen provider's (else the organisation's current one's) statement of the
        month; the providers offered are the organisation's, deleted ones too."""
        offered = self._providers(seat, tenant)
        chosen = _choose(offered, q.provider)
        if chosen is None:
            return {"providers": offered}
        found = self.portal.app.billing.statement(seat.actor, chosen.id, q.month)
        users = found.users[:USERS_SHOWN]
        return {
            "providers": offered,
            "provider": chosen,
            "statement": found,
            "statement_chart": report_charts.statement(_, found),
            "users": users,
            "more_users": len(found.users) - len(users),
            "csv_query": {"provider": chosen.id, "month": q.month},
        }

    def _tenants(self, seat: Seat) -> set[str]:
        return {t.name for t in self.portal.app.admin.list_tenants(seat.actor)}

    def _providers(self, seat: Seat, tenant: str | None) -> list[Provider]:
        every = self.portal.app.providers.list(seat.actor, deleted=True)
        return [p for p in every if tenant is None or p.tenant == tenant]

    def any_csv(self, request: Request) -> Response:
        """Any provider the admin may see (the page over every tenant links here)."""
        return self.statement_csv(request, None)

    def statement_csv(self, request: Request, tenant: str | None) -> Response:
        seat = self.portal.seat(request, Permission.BILLING_READ)
        if isinstance(seat, Response):
            return seat

        def work() -> Statement:
            q = request.query_params
            if tenant is not None and tenant not in self._tenants(seat):
                raise TenantNotFound(f"no tenant {tenant!r}")  # as the other pages: 403
            month = field(q.get("month", ""))[:32]
            chosen = _choose(self._providers(seat, tenant), field(q.get("provider", ""))[:64])
            if chosen is None:
                raise ProviderNotFound("no such provider of this organisation")
            return self.portal.app.billing.statement(seat.actor, chosen.id, month)

        found = self.portal.call(seat, work)
        if isinstance(found, Response):
            return found
        out = io.StringIO()
        write_csv(out, found)
        response = Response(out.getvalue(), media_type="text/csv; charset=utf-8")
        name = f"statement-{found.provider}-{found.month}.csv"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return security.secure(response)


def _choose(offered: list[Provider], wanted: str) -> Provider | None:
    """The provider asked for (it must be one offered), else the live one, else none."""
    if wanted:
        for provider in offered:
            if provider.id == wanted:
                return provider
        raise ProviderNotFound("no such provider of this organisation")
    live = [p for p in offered if p.deleted_at is None]
    return live[0] if live else None
