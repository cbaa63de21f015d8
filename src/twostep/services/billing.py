"""Statements (issue 15, item 4): a provider's billable units of a month, with the
breakdown (by tenant; by method for per-authentication; the billable users for per-user).
What each model counts, and the window, are in domain/billing.py.

**Per-authentication** reads the usage rollups (services/rollups.py: counts per UTC day,
plus the events not rolled up yet, in one statement) for the window's whole UTC days, and
the raw audit events, through the (tenant_id, at) index, for the one or two days the
window cuts: a provider in a zone other than UTC (a month starts mid-UTC-day), created or
deleted mid-month. A day is cut or whole as the rollups number it (``day_of``), so every
event is counted once: by the rollups if its day is whole, by the raw read if not. We chose
this over hourly rollups: it keeps the rollup table 24 times smaller, and costs at most
two days' events of one tenant per statement (zones with a half-hour offset need no
special case). The seam for reports (issue 15, item 5) is ``verifications``.

**Per-user** reads the history of user states (billing_user_states), written in the
transaction of every change that may change whether a user is billable.

**Closed months.** A statement is closed ``CLOSE_GRACE`` after its window ends: later than
any event can be written with a time inside it (an event is attributed by its time, and is
written within seconds of it). The first statement computed after closing is stored, and
answered from then on, unchanged, whatever happens to the audit log (a retention purge)
or the history afterwards; before that it is computed afresh on every request.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

from twostep.domain.billing import (
    BillableUser,
    BillingModel,
    Provider,
    Statement,
    TenantUnits,
    billable_user,
    completed_verification,
    is_closed,
    parse_month,
    window,
)
from twostep.domain.entities import AdminKey
from twostep.domain.ports.storage import Transaction
from twostep.domain.usage import SECONDS_PER_DAY, day_of
from twostep.services.context import Deps
from twostep.services.providers import visible


def verifications(tx: Transaction, tenant_id: int, start: float, end: float) -> Counter[str]:
    """Completed two-step verifications of the tenant with ``start <= at < end``, by
    method: whole UTC days from the rollups, cut days from the raw events."""
    found: Counter[str] = Counter()
    if start >= end:
        return found
    first, last = day_of(start), day_of(end)
    if first == last:
        found.update(tx.billing.verifications(tenant_id, first, start, end))
        return found
    whole_from = first if start == first * SECONDS_PER_DAY else first + 1
    if whole_from > first:
        found.update(tx.billing.verifications(tenant_id, first, start, end))
    if whole_from <= last - 1:
        rolled = tx.usage.counts(tenant_id, whole_from, last - 1, ("method", "result", "reason"))
        for count in rolled:
            if completed_verification(count.result or "", count.reason, count.method):
                found[count.method or ""] += count.events
    found.update(tx.billing.verifications(tenant_id, last, start, end))
    return found


def billable_users(tx: Transaction, tenant_id: int, start: float, end: float) -> dict[int, str]:
    """The users billable at some moment of ``[start, end)``, with their names."""
    found: dict[int, str] = {}
    if start >= end:
        return found
    for state in tx.billing.user_states(tenant_id, end):
        if not billable_user(state.mfa, state.licensed):
            continue
        lasts = state.until is None or (state.until > start and state.until > state.at)
        if lasts:
            found[state.user_id] = state.user_name
    return found


def to_json(statement: Statement) -> str:
    return json.dumps(asdict(statement), sort_keys=True, separators=(",", ":"))


def from_json(text: str) -> Statement:
    data: dict[str, Any] = json.loads(text)
    return Statement(
        provider=data["provider"],
        provider_name=data["provider_name"],
        billing_model=BillingModel(data["billing_model"]),
        month=data["month"],
        time_zone=data["time_zone"],
        start=data["start"],
        end=data["end"],
        closed=data["closed"],
        units=data["units"],
        tenants=tuple(TenantUnits(**t) for t in data["tenants"]),
        users=tuple(BillableUser(**u) for u in data["users"]),
    )


class BillingService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def statement(self, actor: AdminKey, provider_id: str, month: str) -> Statement:
        year, number = parse_month(month)
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            provider = visible(tx, actor, provider_id)
            closed = is_closed(provider, year, number, now)
            if closed and (stored := tx.billing.frozen(provider.id, month)) is not None:
                return from_json(stored)
            statement = compute(tx, provider, year, number, closed=closed)
        if not closed:
            return statement
        with self.deps.storage.transaction(write=True) as tx:
            return from_json(tx.billing.freeze(provider.id, month, to_json(statement), now))


def compute(
    tx: Transaction, provider: Provider, year: int, month: int, *, closed: bool
) -> Statement:
    start, end = window(provider, year, month)
    statement = Statement(
        provider=provider.id,
        provider_name=provider.name,
        billing_model=provider.billing_model,
        month=f"{year:04d}-{month:02d}",
        time_zone=provider.time_zone,
        start=start,
        end=end,
        closed=closed,
        units=0,
    )
    if provider.tenant_id is None:
        return statement
    tenant = provider.tenant or str(provider.tenant_id)
    if provider.billing_model is BillingModel.PER_AUTHENTICATION:
        by_method: Mapping[str, int] = verifications(tx, provider.tenant_id, start, end)
        units = sum(by_method.values())
        row = TenantUnits(tenant, units, dict(sorted(by_method.items())))
        return replace(statement, units=units, tenants=(row,))
    billed = billable_users(tx, provider.tenant_id, start, end)
    users = tuple(sorted(BillableUser(tenant, name) for name in billed.values()))
    return replace(
        statement, units=len(users), tenants=(TenantUnits(tenant, len(users)),), users=users
    )
