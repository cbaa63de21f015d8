"""The usage report (issue 15, item 5): audit events counted by day, method, result,
denial reason, integration and interface, and deliveries by destination country, for a
tenant, a provider (its linked tenant) or every tenant, over a range of UTC days.

Every figure comes from the rollups (services/usage.py: plus the events not rolled up
yet, in one statement; delivery_rollups for deliveries), never from a scan of the audit
log, so a month costs the same whatever the log's size.

Who sees what: a global admin any tenant, any provider, or every tenant (neither named);
a tenant admin only their own tenant, and its providers: another tenant or provider
answers ``tenant_not_found`` / ``provider_not_found``, as one that does not exist, and
every tenant ``forbidden``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twostep.domain.billing import Provider
from twostep.domain.entities import AdminKey, Role
from twostep.domain.errors import Forbidden, InvalidInput, ReportRangeInvalid, TenantNotFound
from twostep.domain.ports.storage import Storage, Transaction
from twostep.domain.usage import DIMENSIONS, CountryDeliveries, Dimension, UsageCount
from twostep.services.context import Deps
from twostep.services.providers import visible
from twostep.services.usage import MAX_DAYS, day_number

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class UsageReport:
    """What was counted, for whom, and the counts (rows with no event left out)."""

    tenant: str | None  # None: every tenant (or a provider linked to none)
    provider: Provider | None
    first: dt.date
    last: dt.date
    group_by: tuple[Dimension, ...]
    counts: Sequence[UsageCount]
    deliveries: Sequence[CountryDeliveries]

    @property
    def events(self) -> int:
        return sum(c.events for c in self.counts)


def parse_day(text: str, field: str) -> dt.date:
    """A day as ``YYYY-MM-DD`` (1970 or later), or ReportRangeInvalid naming ``field``."""
    found = _DATE.match(text)
    try:
        if found is None:
            raise ValueError(text)
        day = dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError as exc:
        raise ReportRangeInvalid(f"{field} must be a date YYYY-MM-DD", field=field) from exc
    if day.year < 1970:
        raise ReportRangeInvalid(f"{field} must be 1970 or later", field=field)
    return day


def parse_group_by(text: str) -> tuple[Dimension, ...]:
    """``day,method`` as dimensions; unknown or repeated ones are refused."""
    names = [n.strip() for n in text.split(",") if n.strip()] if text else []
    chosen = tuple(d for n in names for d in DIMENSIONS if d == n)
    if len(chosen) != len(names) or len(set(chosen)) != len(chosen):
        raise InvalidInput(
            f"group_by is distinct ones of {', '.join(DIMENSIONS)}, comma-separated",
            field="group_by",
        )
    return chosen


class ReportService:
    def __init__(self, deps: Deps) -> None:
        self.storage: Storage[Transaction] = deps.storage  # visible() reads a Transaction

    def usage(
        self,
        actor: AdminKey,
        *,
        tenant: str | None,
        provider: str | None,
        first: dt.date,
        last: dt.date,
        group_by: Sequence[Dimension],
    ) -> UsageReport:
        if first > last:
            raise ReportRangeInvalid("from must not be after to", field="from")
        if (last - first).days >= MAX_DAYS:
            raise ReportRangeInvalid(f"a report covers at most {MAX_DAYS} days", field="to")
        if tenant is not None and provider is not None:
            raise InvalidInput("name a tenant or a provider, not both", field="provider")
        by = parse_group_by(",".join(group_by))
        days = day_number(first), day_number(last)
        with self.storage.transaction() as tx:
            found: Provider | None = None
            if provider is not None:
                found = visible(tx, actor, provider)
                tenant_id, name = found.tenant_id, found.tenant
            else:
                tenant_id, name = _tenant(tx, actor, tenant)
            if provider is not None and tenant_id is None:  # linked to no tenant: nothing
                counts: Sequence[UsageCount] = []
                deliveries: Sequence[CountryDeliveries] = []
            else:
                counts = tx.usage.counts(tenant_id, *days, by)
                deliveries = tx.delivery_counts.by_country(tenant_id, *days)
        ordered = sorted(counts, key=_order(by))
        deliveries = sorted(deliveries, key=lambda c: (-(c.sent + c.failed), c.country, c.kind))
        return UsageReport(name, found, first, last, by, ordered, deliveries)


def _tenant(tx: Transaction, actor: AdminKey, tenant: str | None) -> tuple[int | None, str | None]:
    if tenant is None:
        if actor.role is not Role.GLOBAL_ADMIN:
            raise Forbidden("only a global admin sees every tenant's figures: name a tenant")
        return None, None
    found = tx.tenants.by_name(tenant)
    if found is None or not actor.may_manage(found.id):
        raise TenantNotFound(f"no tenant {tenant!r}")
    return found.id, found.name


def _order(by: tuple[Dimension, ...]) -> Callable[[UsageCount], tuple[object, ...]]:
    def key(count: UsageCount) -> tuple[object, ...]:
        # Days in order; within them, the largest counts first (a null sorts as "").
        values = [getattr(count, d) if d == "day" else (getattr(count, d) or "") for d in by]
        if "day" in by:
            return (count.day or 0, -count.events, *values)
        return (-count.events, *values)

    return key
