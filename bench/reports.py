"""A month's statement and a month's usage report over 10,000,000 audit events (issue 15's
target: each under 1 s on SQLite and on PostgreSQL).

Seeds, in bulk (SQLAlchemy Core ``executemany`` on SQLite, ``COPY`` on PostgreSQL, not
through the services; the audit log's secondary indexes dropped during the load and built
after it, as a restore would): five tenants and four providers made through the services
before the first event (``alpha`` per-authentication in UTC, ``beta`` per-authentication
in Europe/Paris, so its months cut UTC days, ``gamma`` and ``delta`` per-user, ``default``
none), ``--users`` users in each per-user tenant with their billing history (10 % change
state mid-September), and ``--events`` audit events in time order from 1 August to
31 October 2026 18:00 UTC ("now"; October is still open), 45/25/15/10/5 % by tenant.

Then the rollup job catches up exactly as ``twostep audit rollup`` does (``RollupJob.run``,
rounds of 5,000), and each call below is made once to warm up and ``--repeat`` times
timed (the median is reported):

- statements: October of ``alpha`` (open: computed on every request) and of ``beta`` (its
  window starts and ends mid-UTC-day: two cut days read from the raw events), September of
  ``alpha`` computed as the first request after closing does (``billing.compute``), and
  October of ``gamma`` (per-user, from the billing history);
- usage reports (``ReportService.usage``): October of ``alpha`` by every dimension (day,
  method, result, reason, integration, interface), of provider ``beta`` by day and result,
  and of every tenant by day, method, result and reason.

Checks that September's statement of ``alpha`` equals a brute-force count over the raw
events, and that ``alpha``'s September usage report equals a scan (``scan_counts``).

    .venv/bin/python -m bench.reports                        # SQLite and PostgreSQL
    .venv/bin/python -m bench.reports --backend sqlite --events 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if not __package__:  # run as ``python bench/reports.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import and_, func, insert, or_, select

from bench import report
from bench.dashboard import _weighted, database
from twostep.adapters.storage import tables
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.billing import BillingModel, window
from twostep.domain.names import name_key
from twostep.domain.usage import DIMENSIONS, day_of
from twostep.services import billing
from twostep.services.admin import OPERATOR
from twostep.services.rollups import RollupJob
from twostep.services.usage import day_number

UTC = dt.UTC
START = dt.datetime(2026, 8, 1, tzinfo=UTC).timestamp()
NOW = dt.datetime(2026, 10, 31, 18, tzinfo=UTC).timestamp()
CREATED = dt.datetime(2026, 7, 15, tzinfo=UTC).timestamp()
CHANGED = dt.datetime(2026, 9, 15, 12, tzinfo=UTC).timestamp()
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
SEPTEMBER = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
# (tenant, share of events, provider's billing model or None, provider's zone)
TENANTS: list[tuple[str, float, BillingModel | None, str]] = [
    ("alpha", 0.45, BillingModel.PER_AUTHENTICATION, "UTC"),
    ("beta", 0.25, BillingModel.PER_AUTHENTICATION, "Europe/Paris"),
    ("gamma", 0.15, BillingModel.PER_USER, "UTC"),
    ("delta", 0.10, BillingModel.PER_USER, "America/New_York"),
    ("default", 0.05, None, "UTC"),
]
CHUNK = 20_000
SEED_SECONDS = 3600.0  # seeding gives up past this
CATCH_UP_SECONDS = 3600.0
RESULTS = [
    (("accept", None), 0.62),
    (("challenge", None), 0.20),
    (("reject", "invalid_code"), 0.12),
    (("reject", "user_locked"), 0.02),
    (("reject", "user_not_found"), 0.02),
    (("reject", "timeout"), 0.015),
    (("reject", "fraud_reported"), 0.005),
]
METHODS = [
    ("app_code", 0.35),
    ("app_push", 0.3),
    ("oath_token", 0.15),
    ("sms", 0.12),
    ("voice", 0.03),
    ("app_password", 0.01),
    (None, 0.04),
]
INTEGRATIONS = [("vpn", 0.5), ("web", 0.3), ("mail", 0.15), (None, 0.05)]
COLUMNS = [
    "event_id", "tenant_id", "tenant", "at", "user_name", "method", "result", "reason",
    "integration", "interface", "server_name",
]  # fmt: skip


class FixedClock:
    def __init__(self, now: float) -> None:
        self.value = now

    def now(self) -> float:
        return self.value


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=20_000, help="per per-user tenant")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls of each kind")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    return parser.parse_args(argv)


def setup(app: App, clock: FixedClock) -> dict[str, Any]:
    """Tenants and providers, made through the services before the first event."""
    clock.value = CREATED
    ids: dict[str, int] = {}
    providers: dict[str, str] = {}
    for name, _, model, zone in TENANTS:
        tenant = (
            app.admin.ensure_default_tenant()
            if name == "default"
            else app.admin.create_tenant(OPERATOR, name)
        )
        ids[name] = tenant.id
        if model is not None:
            providers[name] = app.providers.create(OPERATOR, name, model, name, zone).id
    clock.value = NOW
    return {"ids": ids, "providers": providers}


def seed_users(app: App, ids: dict[str, int], per_tenant: int) -> None:
    """Users of the per-user tenants, and their billing history, as the services record it."""
    rng = random.Random(15)
    for name, _, model, _ in TENANTS:
        if model is not BillingModel.PER_USER:
            continue
        rows = [
            {
                "tenant_id": ids[name],
                "name": f"{name}-user-{i:06d}@example.com",
                "name_key": name_key(f"{name}-user-{i:06d}@example.com"),
                "mfa": "enforced" if i % 3 else "enabled",
                "created_at": CREATED,
            }
            for i in range(per_tenant)
        ]
        with app.storage.transaction(write=True) as tx:
            for start in range(0, len(rows), CHUNK):
                tx.conn.execute(insert(tables.users), rows[start : start + CHUNK])
            made = tx.conn.execute(
                select(tables.users.c.id, tables.users.c.name).where(
                    tables.users.c.tenant_id == ids[name]
                )
            ).all()
            states = [
                {
                    "tenant_id": ids[name],
                    "user_id": user_id,
                    "user_name": user_name,
                    "at": CREATED,
                    "mfa": "enforced",
                    "licensed": rng.random() < 0.2,
                }
                for user_id, user_name in made
            ]
            states += [
                {**state, "at": CHANGED, "mfa": "disabled"}
                for state in states
                if rng.random() < 0.1
            ]
            for start in range(0, len(states), CHUNK):
                tx.conn.execute(insert(tables.billing_user_states), states[start : start + CHUNK])


def _rows(ids: dict[str, int], events: int) -> Iterator[tuple[Any, ...]]:
    """Events in time order, spread evenly from START to NOW, generated a chunk at a time."""
    rng = random.Random(16)
    names = [t[0] for t in TENANTS]
    shares = [t[1] for t in TENANTS]
    step = (NOW - START) / events
    for start in range(0, events, CHUNK):
        n = min(CHUNK, events - start)
        tenants = rng.choices(names, weights=shares, k=n)
        outcomes = _weighted(rng, RESULTS, n)
        methods = _weighted(rng, METHODS, n)
        integrations = _weighted(rng, INTEGRATIONS, n)
        interfaces = rng.choices(["http", "radius"], weights=[0.7, 0.3], k=n)
        for j in range(n):
            i = start + j
            result, reason = outcomes[j]
            tenant = tenants[j]
            yield (
                # Ascending ids: the unique index grows at its end, as with uuid7s.
                str(uuid.UUID(int=(i << 64) | rng.getrandbits(64))),
                ids[tenant],
                tenant,
                START + (i + rng.random()) * step,
                f"{tenant}-user-{rng.randrange(20_000):06d}@example.com",
                methods[j],
                result,
                reason,
                integrations[j],
                interfaces[j],
                "bench-node",
            )


def seed_events(app: App, ids: dict[str, int], events: int, deadline: float) -> None:
    engine = app.storage.engine
    secondary = list(tables.audit_events.indexes)
    with engine.begin() as conn:  # built after the load, as after a restore
        for index in secondary:
            index.drop(conn)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor.copy(f"COPY audit_events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for i, row in enumerate(_rows(ids, events)):
                    copy.write_row(row)
                    if i % CHUNK == 0 and time.perf_counter() > deadline:
                        raise TimeoutError("seeding took too long")
            raw.commit()
        finally:
            raw.close()
    else:
        rows = _rows(ids, events)
        per_commit = 25 * CHUNK  # a bounded write-ahead log: a commit every 500,000 events
        for first in range(0, events, per_commit):
            with app.storage.transaction(write=True) as tx:
                for start in range(first, min(first + per_commit, events), CHUNK):
                    if time.perf_counter() > deadline:
                        raise TimeoutError("seeding took too long")
                    n = min(CHUNK, events - start)
                    chunk = [dict(zip(COLUMNS, next(rows), strict=True)) for _ in range(n)]
                    tx.conn.execute(insert(tables.audit_events), chunk)
    with engine.begin() as conn:
        for index in secondary:
            index.create(conn)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def catch_up(app: App) -> dict[str, Any]:
    """The rollup job from nothing, as ``twostep audit rollup`` runs it, until caught up."""
    job = RollupJob(app.deps)
    started = time.perf_counter()
    rounds = 0
    while time.perf_counter() - started < CATCH_UP_SECONDS:
        done = job.run(max_rounds=10_000)
        rounds += done.rounds
        if done.caught_up:
            break
    else:
        raise TimeoutError("the rollup job did not catch up")
    took = time.perf_counter() - started
    with app.storage.transaction() as tx:
        cells = tx.conn.execute(select(func.count()).select_from(tables.audit_rollups))
        return {"catch_up_s": took, "catch_up_rounds": rounds, "rollup_rows": cells.scalar_one()}


def timed(call: Callable[[], Any], repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each call (this process's CPU: SQLite's work, and on
    PostgreSQL the client's side; what a loaded machine's waiting does not inflate)."""
    call()  # warm: caches, prepared plans
    wall, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return wall, cpu


def measure(app: App, providers: dict[str, str], repeat: int) -> dict[str, Any]:
    def statement(tenant: str, month: str) -> Callable[[], Any]:
        return lambda: app.billing.statement(OPERATOR, providers[tenant], month)

    def computed(tenant: str, year: int, month: int) -> Callable[[], Any]:
        def call() -> Any:
            with app.storage.transaction() as tx:
                provider = tx.providers.by_id(providers[tenant])
                assert provider is not None
                return billing.compute(tx, provider, year, month, closed=True)

        return call

    def usage(**scope: Any) -> Callable[[], Any]:
        first, last = OCTOBER
        return lambda: app.reports.usage(OPERATOR, first=first, last=last, **scope)

    every = ("day", "method", "result", "reason")
    calls: dict[str, Callable[[], Any]] = {
        "statement alpha 2026-10 (per-authentication, open)": statement("alpha", "2026-10"),
        "statement beta 2026-10 (per-authentication, Paris)": statement("beta", "2026-10"),
        "statement alpha 2026-09 (closed, computed)": computed("alpha", 2026, 9),
        "statement gamma 2026-10 (per-user)": statement("gamma", "2026-10"),
        "usage alpha 2026-10 by every dimension": usage(
            tenant="alpha", provider=None, group_by=DIMENSIONS
        ),
        "usage provider beta 2026-10 by day, result": usage(
            tenant=None, provider=providers["beta"], group_by=("day", "result")
        ),
        "usage every tenant 2026-10 by day, method, result, reason": usage(
            tenant=None, provider=None, group_by=every
        ),
    }
    figures = {}
    for name, call in calls.items():
        wall, cpu = timed(call, repeat)
        figures[name] = {
            "median_ms": statistics.median(wall),
            "samples_ms": wall,
            "cpu_median_ms": statistics.median(cpu),
        }
        print(
            f"  {name}: median {figures[name]['median_ms']:.1f} ms, CPU "
            f"{figures[name]['cpu_median_ms']:.1f} ms; {[round(w) for w in wall]}",
            flush=True,
        )
    rows = app.reports.usage(
        OPERATOR,
        tenant="alpha",
        provider=None,
        first=OCTOBER[0],
        last=OCTOBER[1],
        group_by=DIMENSIONS,
    )
    figures["usage alpha 2026-10 rows"] = len(rows.counts)
    figures["usage alpha 2026-10 events"] = rows.events
    return figures


def check(app: App, ids: dict[str, int], providers: dict[str, str]) -> dict[str, int]:
    """September of ``alpha``: the statement against a brute-force count over the raw
    events, the usage report against a scan."""
    e = tables.audit_events.c
    with app.storage.transaction() as tx:
        provider = tx.providers.by_id(providers["alpha"])
        assert provider is not None
        start, end = window(provider, 2026, 9)
        stated = billing.compute(tx, provider, 2026, 9, closed=True)
        brute = tx.conn.execute(
            select(func.count()).where(
                e.tenant_id == ids["alpha"],
                e.at >= start,
                e.at < end,
                e.result == "accept",
                or_(e.reason.is_(None), e.reason == ""),
                and_(e.method.is_not(None), e.method != "", e.method != "app_password"),
            )
        ).scalar_one()
        assert stated.units == brute, (stated.units, brute)
        first, last = (day_number(d) for d in SEPTEMBER)
        rolled = tx.usage.counts(ids["alpha"], first, last, DIMENSIONS)
        scanned = tx.usage.scan_counts(ids["alpha"], first, last, DIMENSIONS)
        assert sorted(map(repr, rolled)) == sorted(map(repr, scanned))
    return {"september_alpha_units": stated.units, "september_alpha_cells": len(rolled)}


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="twostep-reports-") as home, database(backend) as url:
        env = {"TWOSTEP_HOME": home, "TWOSTEP_ROLLUP_INTERVAL": "0"}
        if url:
            env["TWOSTEP_DATABASE_URL"] = url
        clock = FixedClock(NOW)
        app = build(Config.from_env(env), clock=clock, upgrade=True)
        try:
            made = setup(app, clock)
            ids, providers = made["ids"], made["providers"]
            started = time.perf_counter()
            seed_users(app, ids, args.users)
            seed_events(app, ids, args.events, time.perf_counter() + SEED_SECONDS)
            result: dict[str, Any] = {"seed_s": time.perf_counter() - started}
            print(f"  seeded {args.events} events in {result['seed_s']:.0f} s", flush=True)
            result |= catch_up(app)
            print(
                f"  rolled up in {result['catch_up_s']:.0f} s ({result['catch_up_rounds']} "
                f"rounds, {result['rollup_rows']} rollup rows)",
                flush=True,
            )
            assert day_of(NOW) == day_number(OCTOBER[1])
            result["timings"] = measure(app, providers, args.repeat)
            result["checks"] = check(app, ids, providers)
            print(f"  checks passed: {result['checks']}", flush=True)
        finally:
            app.close()
    return result


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results: dict[str, Any] = {"machine": report.machine(), "args": vars(args) | {"json": None}}
    for backend in backends:
        print(f"{backend}:", flush=True)
        results[backend] = run(backend, args)
        if args.json:  # after each backend: a later failure keeps the figures so far
            args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
