"""The dashboard's figures over 100,000 users and 1,000,000 audit events (issue 14's
target: under 50 ms at the server; issue 15: from rollups, not a scan).

Seeds, in bulk (SQLAlchemy Core ``executemany`` on SQLite, ``COPY`` on PostgreSQL, not
through the services): five tenants, 100,000 users (90 % in ``default``, 1 % of them
locked), 1,000,000 audit events over the 30 days before "now" (a fixed clock at 18:00
UTC, events in time order as a live server writes them; 85 % in ``default``) and 100
pending challenges. Then:

1. times the rollup job catching up from nothing (every event, rounds of 5,000);
2. for each tail size (``--tails``, default 0, 5,000 and 20,000: what a 5 s interval
   leaves at most at 1,000 and 4,000 sign-ins/s), writes that many events the job has
   not seen yet, as a live server would have, and measures (3) again;
3. times, ``--repeat`` times each, interleaved: the dashboard service call (today by
   result and method, fraud reports, locked users, pending challenges) for ``default``
   and for every tenant, the 30-day chart (per day and result), the SQL alone (the
   repository calls in one transaction, no service), and the baseline: the same figures
   by a plain GROUP BY over the raw audit events (``UsageRepo.scan_counts``);
4. checks that the rollups' figures equal the scan's, exactly.

Prints medians and p99 in milliseconds, and the ratio of each to its baseline.

    .venv/bin/python -m bench.dashboard                       # SQLite and PostgreSQL
    .venv/bin/python -m bench.dashboard --backend sqlite --events 200000 --users 20000
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if not __package__:  # run as ``python bench/dashboard.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select
from tests.support import postgres

from bench import report
from twostep.adapters.storage import tables
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.names import name_key
from twostep.domain.usage import Dimension, day_of
from twostep.services.admin import OPERATOR
from twostep.services.rollups import RollupJob
from twostep.services.usage import day_date

TENANTS = ["default", "north", "south", "east", "west"]
TENANT_SHARE = [0.85, 0.05, 0.04, 0.03, 0.03]
DAYS = 30
CHUNK = 20_000
SEED_SECONDS = 900.0  # seeding gives up past this
RESULTS = [
    # (result, reason, method weight table key), with weights
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
    (None, 0.05),
]
INTEGRATIONS = [("vpn", 0.5), ("web", 0.3), ("mail", 0.15), (None, 0.05)]


class FixedClock:
    def __init__(self, now: float) -> None:
        self.value = now

    def now(self) -> float:
        return self.value


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--tails",
        default="0,5000,20000",
        help="events not rolled up yet, measured in turn (comma-separated, ascending)",
    )
    parser.add_argument("--repeat", type=int, default=200, help="timed calls of each kind")
    parser.add_argument("--baseline-repeat", type=int, default=15, help="timed scans")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    return parser.parse_args(argv)


@contextmanager
def database(backend: str) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None
        return
    server = postgres.start(durable=True)  # default durability: fsync, synchronous commits
    try:
        server.psql("CREATE DATABASE twostep_bench")
        yield server.url("twostep_bench")
    finally:
        server.stop()


def _weighted(rng: random.Random, table: list[tuple[Any, float]], n: int) -> list[Any]:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights, k=n)


def seed(app: App, now: float, users: int, events: int, deadline: float) -> dict[str, float]:
    rng = random.Random(14)
    ids = [app.admin.ensure_default_tenant().id]
    ids += [app.admin.create_tenant(OPERATOR, name).id for name in TENANTS[1:]]
    timings: dict[str, float] = {}
    started = time.perf_counter()
    user_rows = []
    for i in range(users):
        tenant = 0 if i < users * 0.9 else 1 + i % 4
        name = f"user-{i:06d}@example.com"
        locked = now + rng.uniform(60, 900) if rng.random() < 0.01 else None
        if locked is None and rng.random() < 0.05:
            locked = now - rng.uniform(60, 86400)  # a lock that ran out
        user_rows.append(
            {
                "tenant_id": ids[tenant],
                "name": name,
                "name_key": name_key(name),
                "mfa": "enforced",
                "created_at": now - DAYS * 86400,
                "locked_until": locked,
            }
        )
    with app.storage.transaction(write=True) as tx:
        for start in range(0, len(user_rows), CHUNK):
            tx.conn.execute(insert(tables.users), user_rows[start : start + CHUNK])
    timings["seed_users_s"] = time.perf_counter() - started
    started = time.perf_counter()
    seed_events(app, ids, now, users, events, deadline)
    timings["seed_events_s"] = time.perf_counter() - started
    seed_challenges(app, ids[0], now)
    return timings


def seed_events(
    app: App, ids: list[int], now: float, users: int, events: int, deadline: float
) -> None:
    rng = random.Random(16)
    span = DAYS * 86400.0
    ats = sorted(now - rng.random() * span for _ in range(events))  # time order, as written
    tenants = rng.choices(range(len(TENANTS)), weights=TENANT_SHARE, k=events)
    outcomes = _weighted(rng, RESULTS, events)
    methods = _weighted(rng, METHODS, events)
    integrations = _weighted(rng, INTEGRATIONS, events)
    interfaces = rng.choices(["http", "radius"], weights=[0.7, 0.3], k=events)
    columns = [
        "event_id", "tenant_id", "tenant", "at", "user_name", "method", "result", "reason",
        "integration", "interface", "server_name",
    ]  # fmt: skip

    def row(i: int) -> tuple[Any, ...]:
        result, reason = outcomes[i]
        t = tenants[i]
        return (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            ids[t],
            TENANTS[t],
            ats[i],
            f"user-{rng.randrange(users):06d}@example.com",
            methods[i],
            result,
            reason,
            integrations[i],
            interfaces[i],
            "bench-node",
        )

    if app.storage.engine.dialect.name == "postgresql":
        raw = app.storage.engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor.copy(f"COPY audit_events ({', '.join(columns)}) FROM STDIN") as copy:
                for i in range(events):
                    copy.write_row(row(i))
                    if i % CHUNK == 0 and time.perf_counter() > deadline:
                        raise TimeoutError("seeding took too long")
            raw.commit()
        finally:
            raw.close()
    else:
        with app.storage.transaction(write=True) as tx:
            for start in range(0, events, CHUNK):
                if time.perf_counter() > deadline:
                    raise TimeoutError("seeding took too long")
                chunk = [
                    dict(zip(columns, row(i), strict=True))
                    for i in range(start, min(start + CHUNK, events))
                ]
                tx.conn.execute(insert(tables.audit_events), chunk)


def seed_challenges(app: App, tenant_id: int, now: float) -> None:
    pending = [
        {
            "id": f"bench-{i}",
            "tenant_id": tenant_id,
            "user_id": 1 + i,
            "method_id": "m",
            "kind": "sms",
            "state": "pending",
            "max_attempts": 3,
            "created_at": now - 10,
            "expires_at": now + 110,
            "last_sent_at": now - 10,
            "interface": "http",
        }
        for i in range(100)
    ]
    with app.storage.transaction(write=True) as tx:
        tx.conn.execute(insert(tables.challenges), pending)
    if app.storage.engine.dialect.name == "postgresql":
        with app.storage.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def write_tail(app: App, now: float, count: int) -> None:
    """Events written after the job's last round, as a live server would have."""
    rng = random.Random(15)
    with app.storage.transaction() as tx:
        tenant_id = tx.tenants.by_name("default").id  # type: ignore[union-attr]
    rows = [
        {
            "event_id": str(uuid.uuid4()),
            "tenant_id": tenant_id,
            "tenant": "default",
            "at": now - 5 + 5 * i / max(count, 1),
            "user_name": f"user-{rng.randrange(1000):06d}@example.com",
            "method": "app_code",
            "result": rng.choice(["accept", "reject"]),
            "reason": None,
            "integration": "vpn",
            "interface": "http",
            "server_name": "bench-node",
        }
        for i in range(count)
    ]
    with app.storage.transaction(write=True) as tx:
        for start in range(0, len(rows), CHUNK):
            tx.conn.execute(insert(tables.audit_events), rows[start : start + CHUNK])


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def measure(app: App, now: float, repeat: int, baseline_repeat: int, scans: bool) -> dict[str, Any]:
    today = day_of(now)
    first_day = today - DAYS + 1
    usage = app.usage
    with app.storage.transaction() as tx:
        default_id = tx.tenants.by_name("default").id  # type: ignore[union-attr]
    last = day_date(today)
    first = day_date(first_day)

    def sql_alone(tenant_id: int | None) -> Callable[[], Any]:
        def call() -> Any:
            with app.storage.transaction() as tx:
                tx.usage.counts(tenant_id, today, today, ("result", "method", "reason"))
                tx.usage.locked_users(tenant_id, now)
                tx.usage.pending_challenges(tenant_id, now)

        return call

    def scan(tenant_id: int | None, days: int, by: tuple[Dimension, ...]) -> Callable[[], Any]:
        def call() -> Any:
            with app.storage.transaction() as tx:
                tx.usage.scan_counts(tenant_id, today - days + 1, today, by)
                tx.usage.locked_users(tenant_id, now)
                tx.usage.pending_challenges(tenant_id, now)

        return call

    kinds: dict[str, tuple[Callable[[], Any], int]] = {
        "dashboard default": (lambda: usage.dashboard(OPERATOR, "default"), repeat),
        "dashboard all tenants": (lambda: usage.dashboard(OPERATOR, None), repeat),
        "30-day chart default": (
            lambda: usage.by_day(OPERATOR, "default", first, last, "result"),
            repeat,
        ),
        "SQL alone default": (sql_alone(default_id), repeat),
        "SQL alone all tenants": (sql_alone(None), repeat),
        "scan: dashboard default": (
            scan(default_id, 1, ("result", "method", "reason")),
            baseline_repeat,
        ),
        "scan: dashboard all tenants": (
            scan(None, 1, ("result", "method", "reason")),
            baseline_repeat,
        ),
        "scan: 30-day chart default": (scan(default_id, DAYS, ("day", "result")), baseline_repeat),
    }
    if not scans:
        kinds = {name: kind for name, kind in kinds.items() if not name.startswith("scan")}
    for call, _ in kinds.values():  # warm: caches, prepared plans
        call()
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    rounds = max(n for _, n in kinds.values())
    for i in range(rounds):  # interleaved, so the machine's noise falls on all alike
        for name, (call, n) in kinds.items():
            if i < n:
                samples[name] += timed(call, 1)
    figures = {
        name: {"median_ms": statistics.median(v), "p99_ms": _p99(v), "n": len(v)}
        for name, v in samples.items()
    }
    # Exactness: the rollups' figures equal the scan's.
    checks: list[tuple[int, tuple[Dimension, ...]]] = [
        (1, ("result", "method", "reason")),
        (DAYS, ("day", "result")),
    ]
    with app.storage.transaction() as tx:
        for tenant_id in (default_id, None):
            for days, by in checks:
                rolled = tx.usage.counts(tenant_id, today - days + 1, today, by)
                scanned = tx.usage.scan_counts(tenant_id, today - days + 1, today, by)
                assert sorted(map(repr, rolled)) == sorted(map(repr, scanned)), (tenant_id, by)
    return figures


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    midnight = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    now = midnight.timestamp() + 18 * 3600.0
    with tempfile.TemporaryDirectory(prefix="twostep-dash-") as home, database(backend) as url:
        env = {"TWOSTEP_HOME": home}
        if url:
            env["TWOSTEP_DATABASE_URL"] = url
        app = build(Config.from_env(env), clock=FixedClock(now), upgrade=True)
        try:
            deadline = time.perf_counter() + SEED_SECONDS
            result: dict[str, Any] = seed(app, now, args.users, args.events, deadline)
            users_s, events_s = result["seed_users_s"], result["seed_events_s"]
            print(
                f"  seeded {args.users} users in {users_s:.1f} s, "
                f"{args.events} events in {events_s:.1f} s",
                flush=True,
            )
            job = RollupJob(app.deps)
            started, cpu = time.perf_counter(), time.process_time()
            rounds = 0
            while True:
                done = job.run(max_rounds=100)
                rounds += done.rounds
                if done.caught_up:
                    break
            result["catch_up_s"] = time.perf_counter() - started
            # This process's CPU (SQLite runs in it; PostgreSQL's server does not count).
            result["catch_up_cpu_us_per_event"] = (time.process_time() - cpu) / args.events * 1e6
            result["catch_up_rounds"] = rounds
            with app.storage.transaction() as tx:
                count = select(func.count()).select_from(tables.audit_rollups)
                result["rollup_rows"] = tx.conn.execute(count).scalar_one()
            took, cells = result["catch_up_s"], result["rollup_rows"]
            print(
                f"  caught up {args.events} events in {took:.1f} s "
                f"({rounds} rounds, {cells} rollup rows; this process's CPU: "
                f"{result['catch_up_cpu_us_per_event']:.1f} us per event)",
                flush=True,
            )
            result["timings"] = {}
            written = 0
            for tail in sorted(int(t) for t in args.tails.split(",")):
                write_tail(app, now, tail - written)
                written = tail
                result["timings"][tail] = measure(
                    app, now, args.repeat, args.baseline_repeat, scans=not result["timings"]
                )
        finally:
            app.close()
    return result


def table(backend: str, result: dict[str, Any]) -> str:
    by_tail: dict[int, dict[str, Any]] = result["timings"]
    scans = next(iter(by_tail.values()))
    baseline = {
        "dashboard default": "scan: dashboard default",
        "dashboard all tenants": "scan: dashboard all tenants",
        "30-day chart default": "scan: 30-day chart default",
        "SQL alone default": "scan: dashboard default",
        "SQL alone all tenants": "scan: dashboard all tenants",
    }
    out = io.StringIO()
    out.write(f"\n{backend}: median and p99 (ms), and the median's ratio to the scan's\n")
    out.write(f"{'call':32} {'tail':>6} {'median':>9} {'p99':>9} {'n':>5} {'vs scan':>9}\n")
    for tail, timings in by_tail.items():
        for name, figures in timings.items():
            ratio = ""
            if name in baseline:
                ratio = f"{figures['median_ms'] / scans[baseline[name]]['median_ms']:.4f}"
            out.write(
                f"{name:32} {tail:6d} {figures['median_ms']:9.2f} {figures['p99_ms']:9.2f} "
                f"{figures['n']:5d} {ratio:>9}\n"
            )
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results: dict[str, Any] = {"machine": report.machine(), "args": vars(args) | {"json": None}}
    for backend in backends:
        print(f"{backend}:", flush=True)
        results[backend] = run(backend, args)
        print(table(backend, results[backend]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
