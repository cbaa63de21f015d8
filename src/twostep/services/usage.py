"""Usage figures: what the dashboard shows, and what the usage reports are built on.

Every figure of audit events comes from the rollups plus the events not rolled up yet
(services/rollups.py), read in one statement: exact and current, whether the job ran a
second ago or an hour ago (the longer ago, the more it reads). The other figures are
indexed queries: locked users by ``users.locked_until``, pending challenges by
``challenges.expires_at``. Days are UTC calendar days.

The interface, for the pages and the reports:

- ``dashboard(actor, tenant)``: today's sign-ins by result and by method, fraud reports
  today, users locked now, challenges pending now.
- ``by_day(actor, tenant, first, last, by)``: a count per day and per ``by``
  (``result`` or ``method``, or none), for charts.
- ``counts(actor, tenant, first, last, by)``: counts over the days grouped by any of the
  dimensions (day, integration, interface, method, result, reason): the usage report.
- ``deliveries_by_country(actor, tenant, start, end)``: texts, calls and emails sent and
  failed per destination country and kind (delivery_rollups, written with each outcome).

``tenant`` is a tenant's name, or None for every tenant (a global admin only). A tenant
admin naming another tenant hears ``tenant_not_found``, as everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from twostep.domain.entities import AdminKey, Role
from twostep.domain.errors import Forbidden, InvalidInput, ReportRangeInvalid, TenantNotFound
from twostep.domain.ports.storage import Storage
from twostep.domain.ports.tenants import TenantRepo
from twostep.domain.ports.usage import DeliveryCountRepo, UsageRepo
from twostep.domain.results import Reason
from twostep.domain.usage import DIMENSIONS, CountryDeliveries, Dimension, UsageCount, day_of
from twostep.services.context import Deps

MAX_DAYS = 400  # a range longer than a year and a bit is refused (a chart, a report)
_EPOCH = dt.date(1970, 1, 1)


class UsageWork(Protocol):
    @property
    def usage(self) -> UsageRepo: ...

    @property
    def tenants(self) -> TenantRepo: ...

    @property
    def delivery_counts(self) -> DeliveryCountRepo: ...


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The dashboard's figures. ``None`` as a method: the attempt ended before a method
    was chosen (an unknown user, a wrong password, a locked user)."""

    day: dt.date  # today, UTC
    by_result: Mapping[str, int]  # accept, reject, challenge
    by_method: Mapping[str | None, int]
    fraud_reports: int  # today's events with reason fraud_reported
    locked_users: int  # now
    pending_challenges: int  # now, not expired


@dataclass(frozen=True, slots=True)
class DayCount:
    day: dt.date
    key: str | None  # the ``by`` value (a result, a method), or None without ``by``
    events: int


def day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def day_date(number: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=number)


class UsageService:
    def __init__(self, deps: Deps) -> None:
        self.storage: Storage[UsageWork] = deps.storage
        self.clock = deps.clock

    def dashboard(self, actor: AdminKey, tenant: str | None) -> Dashboard:
        now = self.clock.now()
        today = day_of(now)
        with self.storage.transaction() as tx:
            tenant_id = self._tenant_id(tx, actor, tenant)
            rows = tx.usage.counts(tenant_id, today, today, ("result", "method", "reason"))
            locked = tx.usage.locked_users(tenant_id, now)
            pending = tx.usage.pending_challenges(tenant_id, now)
        by_result: dict[str, int] = {}
        by_method: dict[str | None, int] = {}
        fraud = 0
        for row in rows:
            result = row.result or ""
            by_result[result] = by_result.get(result, 0) + row.events
            by_method[row.method] = by_method.get(row.method, 0) + row.events
            if row.reason == Reason.FRAUD_REPORTED.value:
                fraud += row.events
        return Dashboard(day_date(today), by_result, by_method, fraud, locked, pending)

    def by_day(
        self,
        actor: AdminKey,
        tenant: str | None,
        first: dt.date,
        last: dt.date,
        by: Dimension | None = None,
    ) -> list[DayCount]:
        """Counts per day (and per ``by``), days without events left out, by day."""
        dims: tuple[Dimension, ...] = ("day",) if by is None else ("day", by)
        rows = self.counts(actor, tenant, first, last, dims)
        found = [
            DayCount(day_date(row.day or 0), None if by is None else getattr(row, by), row.events)
            for row in rows
        ]
        return sorted(found, key=lambda c: (c.day, c.key or ""))

    def counts(
        self,
        actor: AdminKey,
        tenant: str | None,
        first: dt.date,
        last: dt.date,
        by: Sequence[Dimension],
    ) -> Sequence[UsageCount]:
        _check_range(first, last)
        if len(set(by)) != len(by) or any(d not in DIMENSIONS for d in by):
            raise InvalidInput(f"group by distinct ones of {', '.join(DIMENSIONS)}")
        with self.storage.transaction() as tx:
            tenant_id = self._tenant_id(tx, actor, tenant)
            return tx.usage.counts(tenant_id, day_number(first), day_number(last), by)

    def deliveries_by_country(
        self, actor: AdminKey, tenant: str | None, start: dt.date, end: dt.date
    ) -> list[CountryDeliveries]:
        """Deliveries of the days ``start..end`` (inclusive, UTC) by country and kind,
        most sent first (then by country and kind, for a stable order)."""
        _check_range(start, end)
        with self.storage.transaction() as tx:
            tenant_id = self._tenant_id(tx, actor, tenant)
            found = tx.delivery_counts.by_country(tenant_id, day_number(start), day_number(end))
        return sorted(found, key=lambda c: (-(c.sent + c.failed), c.country, c.kind))

    @staticmethod
    def _tenant_id(tx: UsageWork, actor: AdminKey, tenant: str | None) -> int | None:
        if tenant is None:
            if actor.role is not Role.GLOBAL_ADMIN:
                raise Forbidden("only a global admin sees every tenant's figures")
            return None
        found = tx.tenants.by_name(tenant)
        if found is None or not actor.may_manage(found.id):
            raise TenantNotFound(f"no tenant {tenant!r}")
        return found.id


def _check_range(first: dt.date, last: dt.date) -> None:
    if first > last or (last - first).days >= MAX_DAYS:
        raise ReportRangeInvalid(f"a range of 1 to {MAX_DAYS} days, first day first")
