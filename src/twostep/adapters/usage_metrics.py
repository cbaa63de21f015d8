"""The usage report's figures as Prometheus counters (issue 15, item 5), read from the
rollups at scrape time: audit events per tenant, method, result and reason
(``audit_rollups``), and deliveries per tenant, kind and destination country
(``delivery_rollups``), each summed over every day.

One read serves every scrape for ``TTL`` seconds (two grouped sums over tables of a few
hundred thousand rows at most), so a scrape every few seconds costs the database little.
They are counters: the rollups only grow, so each series only grows (a ``twostep audit
rollup --rebuild`` after a purge of the audit log may lower one: Prometheus takes it as a
counter reset). The audit events count what the rollup job has counted: they trail the
log by up to ``TWOSTEP_ROLLUP_INTERVAL`` (5 s). Label values are the tenant's name (the
tenant's id once it is deleted) and codes: a method kind, a result, a reason code, a
delivery kind, an ISO 3166 country ("ZZ": unknown); "none" for no method or no reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from twostep.adapters.storage.tables import audit_rollups, delivery_rollups, tenants

TTL = 30.0  # seconds one read of the rollups is reused

_Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


class UsageCollector(Collector):
    def __init__(
        self, engine: Engine, ttl: float = TTL, clock: Callable[[], float] = time.monotonic
    ):
        self.engine = engine
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()  # one read at a time; concurrent scrapes share it
        self._read_at: float | None = None
        self._rows: _Rows = ([], [])

    def describe(self) -> Iterable[Any]:
        """The families without their values: a registry that describes its collectors
        when they are registered reads no database (nor fills the cache with nothing)."""
        return self._families(([], []))

    def collect(self) -> Iterable[Any]:
        return self._families(self._read())

    def _families(self, rows: _Rows) -> Iterable[Any]:
        events_rows, delivery_rows = rows
        events = CounterMetricFamily(
            "twostep_usage_events",
            "Audit events (sign-in attempts) rolled up, by tenant, method, result and reason",
            labels=["tenant", "method", "result", "reason"],
        )
        for tenant, method, result, reason, count in events_rows:
            events.add_metric([tenant, method or "none", result, reason or "none"], count)
        sent = CounterMetricFamily(
            "twostep_usage_deliveries",
            "Texts, calls and emails a gateway took, by tenant, kind and destination country",
            labels=["tenant", "kind", "country"],
        )
        failed = CounterMetricFamily(
            "twostep_usage_delivery_failures",
            "Texts, calls and emails every gateway refused, by tenant, kind and country",
            labels=["tenant", "kind", "country"],
        )
        segments = CounterMetricFamily(
            "twostep_usage_sms_segments",
            "SMS segments sent (what carriers charge for), by tenant, kind and country",
            labels=["tenant", "kind", "country"],
        )
        for tenant, kind, country, n_sent, n_failed, n_segments in delivery_rows:
            sent.add_metric([tenant, kind, country], n_sent)
            failed.add_metric([tenant, kind, country], n_failed)
            segments.add_metric([tenant, kind, country], n_segments)
        yield from (events, sent, failed, segments)

    def _read(self) -> _Rows:
        with self._lock:
            now = self.clock()
            if self._read_at is None or now - self._read_at >= self.ttl:
                self._rows = self._query()
                self._read_at = now
            return self._rows

    def _query(self) -> _Rows:
        r, d, t = audit_rollups.c, delivery_rollups.c, tenants.c
        name = func.coalesce(t.name, func.cast(r.tenant_id, tenants.c.name.type))
        events = (
            select(name, r.method, r.result, r.reason, func.sum(r.events))
            .select_from(audit_rollups.outerjoin(tenants, t.id == r.tenant_id))
            .group_by(name, r.method, r.result, r.reason)
        )
        named = func.coalesce(t.name, func.cast(d.tenant_id, tenants.c.name.type))
        deliveries = (
            select(
                named, d.kind, d.country, func.sum(d.sent), func.sum(d.failed), func.sum(d.segments)
            )
            .select_from(delivery_rollups.outerjoin(tenants, t.id == d.tenant_id))
            .group_by(named, d.kind, d.country)
        )
        with self.engine.connect() as conn:
            event_rows = [tuple(row) for row in conn.execute(events)]
            delivery_rows = [tuple(row) for row in conn.execute(deliveries)]
        return event_rows, delivery_rows
