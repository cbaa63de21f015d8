"""Validation throughput and latency of ``POST /v1/validate`` on loopback.

Creates N users with a HOTP ``oath_token`` each, starts ``twostep serve`` on 127.0.0.1,
then, at each concurrency and for each repeat, measures back to back:

* ``GET /health`` (the framework floor, the baseline the ratios are taken against),
* successful validations (every request a fresh valid HOTP code: one-time use is
  exercised, a replay would answer ``code_replayed`` and count as an error),
* failed validations (a wrong code: the answer must be ``reject``/``invalid_code``;
  ``user_locked`` or anything else counts as an error),

and then, on SQLite, the same three runs against the bare probe (``bench/probe.py``: a
Starlette app doing only what a validation must, served the same way, on its own copy
of the users), so Twostep's rate is also reported as a fraction of the probe's.

PostgreSQL is measured with its default durability (``postgres``: fsync and synchronous
commits on, the headline) and with the test suite's fast settings (``pg-fast``: fsync,
synchronous_commit and full_page_writes off), each on a throw-away server.

Every run is bounded by a request count and by a time limit. ``--memory`` instead
enrolls 100,000 users and reports the resident memory of the server's process tree.

    .venv/bin/python -m bench.validate                      # SQLite and PostgreSQL
    .venv/bin/python -m bench.validate --backend sqlite --concurrency 16
    .venv/bin/python -m bench.validate --backend sqlite --memory
    .venv/bin/python -m bench.validate --profile /tmp/validate.prof   # one worker, cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import pstats
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

if not __package__:  # run as ``python bench/validate.py`` (the Makefile does)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import postgres

from bench import loadgen, report
from bench.loadgen import Plan, RunResult
from bench.population import BenchUser, Population, populate
from bench.probe import create_database
from bench.server import (
    ProbeServer,
    Server,
    cpu_since,
    system_busy_seconds,
    tree_cpu,
    tree_memory,
)
from twostep.config import default_workers

DEFAULT_CONCURRENCY = "1,16,64"
QUIET_CORES = 0.15
BACKENDS = {
    "both": ["sqlite", "postgres", "pg-fast"],
    "sqlite": ["sqlite"],
    "postgres": ["postgres"],
    "pg-fast": ["pg-fast"],
    "pg-both": ["postgres", "pg-fast"],
}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--backend",
        choices=tuple(BACKENDS),
        default="both",
        help="postgres: default durability; pg-fast: fsync off; pg-both: those two; "
        "both: all three [both]",
    )
    parser.add_argument("--users", type=int, default=1_000, help="users (HOTP tokens) [1000]")
    parser.add_argument(
        "--concurrency", default=DEFAULT_CONCURRENCY, help="connections, comma-separated"
    )
    parser.add_argument("--requests", type=int, default=3_000, help="requests per run [3000]")
    parser.add_argument("--seconds", type=float, default=3.0, help="time limit per run [3]")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration [3]")
    parser.add_argument(
        "--workers", type=int, default=None, help="server worker processes [the server's default]"
    )
    parser.add_argument(
        "--setup",
        choices=("auto", "service", "bulk"),
        default="auto",
        help="create users through the services, or bulk insert (auto: services up to 5000)",
    )
    parser.add_argument("--memory", action="store_true", help="the 100,000-user memory run")
    parser.add_argument("--memory-users", type=int, default=100_000)
    parser.add_argument(
        "--memory-touch",
        type=int,
        default=20_000,
        help="distinct users validated once, at the highest concurrency [20000]",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="wait up to this long for other processes to go idle before measuring [120]",
    )
    parser.add_argument(
        "--no-probe", action="store_true", help="skip the bare probe (bench/probe.py) on SQLite"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="instead: one Twostep worker under cProfile on SQLite, driven at the highest "
        "--concurrency with accepted validations for --seconds; the profile goes to this file",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not args.levels or min(args.levels) < 1 or max(args.levels) > 512:
        parser.error("--concurrency: 1 to 512 connections")
    if args.users < max(args.levels):
        parser.error("--users must be at least the highest concurrency")
    if not (1 <= args.repeat <= 20 and 1 <= args.requests <= 1_000_000):
        parser.error("--repeat 1-20, --requests 1-1000000")
    if not 0.1 <= args.seconds <= 600:
        parser.error("--seconds 0.1-600")
    return args


# -- plans: every request built before the timed phase ---------------------------


def _split(total: int, lanes: int) -> list[int]:
    return [total // lanes + (1 if i < total % lanes else 0) for i in range(lanes)]


def validate_plan(pop: Population, port: int, concurrency: int, total: int, good: bool) -> Plan:
    """Lane ``i`` owns the users whose index is ``i`` modulo ``concurrency`` and cycles
    through them, so no user is ever in flight twice and codes arrive in order."""
    lanes: list[list[bytes]] = []
    owners: list[list[int]] = []
    for lane, count in enumerate(_split(total, concurrency)):
        mine = list(range(lane, len(pop.users), concurrency))
        per_user: dict[int, list[str]] = {}
        rounds = -(-count // len(mine))
        for index in mine:
            user = pop.users[index]
            per_user[index] = (
                user.codes(user.next_counter, rounds) if good else [user.wrong_code()] * rounds
            )
        requests, who = [], []
        for k in range(count):
            index = mine[k % len(mine)]
            code = per_user[index][k // len(mine)]
            body = {"user": pop.users[index].name, "code": code}
            requests.append(loadgen.post(port, "/v1/validate", pop.key, body))
            who.append(index)
        lanes.append(requests)
        owners.append(who)
    check = loadgen.expect_accept if good else loadgen.expect_invalid_code
    return Plan("success" if good else "failure", lanes, check, owners)


def check_replay(runner: Runner, pop: Population, server: Server) -> None:
    """A code that was just accepted must now be refused. (For HOTP the answer is
    ``invalid_code``: the server's window starts past the spent counter, so the code
    matches nothing; ``code_replayed`` is what a race between two requests gets.)"""
    user = pop.users[0]
    if user.next_counter == 0:
        return
    spent = user.codes(user.next_counter - 1, 1)[0]
    request = loadgen.post(server.port, "/v1/validate", pop.key, {"user": user.name, "code": spent})

    def refused(status: int, body: bytes) -> str:
        if status == 200 and b'"result":"reject"' in body:
            return "ok"
        return loadgen.expect_accept(status, body)

    result = runner(server.port, Plan("replay", [[request]], refused), 10.0)
    if result.ok != 1:
        raise RuntimeError(f"a spent code was not refused: {dict(result.outcomes)}")
    print("  one-time use: a spent code is refused", flush=True)


def health_plan(port: int, concurrency: int, total: int) -> Plan:
    request = loadgen.get(port, "/health")
    lanes = [[request] * n for n in _split(total, concurrency)]
    return Plan("health", lanes, loadgen.expect_health)


def commit(pop: Population, plan: Plan, result: RunResult) -> None:
    """Advance each user's counter past the codes actually sent (the server accepts
    up to ``hotp_lookahead`` counters ahead, so a lost answer does not derail a user)."""
    if not plan.kind.endswith("success"):
        return
    for who, sent in zip(plan.owners, result.sent_per_lane, strict=True):
        for index in who[:sent]:
            pop.users[index].next_counter += 1


# -- one backend -------------------------------------------------------------------


@contextmanager
def database(backend: str) -> Iterator[tuple[str | None, int | None]]:
    """``(None, None)`` for SQLite under TWOSTEP_HOME (the embedded default), else a
    throw-away PostgreSQL server's URL and the pid of its postmaster."""
    if backend == "sqlite":
        yield None, None
        return
    server = postgres.start(durable=backend == "postgres")
    try:
        server.psql("CREATE DATABASE twostep_bench")
        pid_file = server.datadir / "postmaster.pid"
        yield server.url("twostep_bench"), int(pid_file.read_text().split()[0])
    finally:
        server.stop()


Runner = Callable[[int, Plan, float], RunResult]


def _measure(
    runner: Runner, pop: Population, server: Server, plan: Plan, seconds: float
) -> RunResult:
    server_before, db_before = tree_cpu(server.pid), tree_cpu(server.db_pid)
    busy_before = system_busy_seconds()
    result = runner(server.port, plan, seconds)
    result.server_cpu = cpu_since(server.pid, server_before)
    result.db_cpu = cpu_since(server.db_pid, db_before)
    busy = system_busy_seconds() - busy_before
    result.other_cpu = max(0.0, busy - result.server_cpu - result.db_cpu - result.client_cpu)
    commit(pop, plan, result)
    return result


def wait_for_quiet(server: Server, limit: float) -> float:
    """Wait (at most ``limit`` seconds) until other processes use under 0.15 of a core,
    so their load does not distort the figures; returns what they used last."""
    deadline = time.monotonic() + limit
    while True:
        server_before, db_before = tree_cpu(server.pid), tree_cpu(server.db_pid)
        busy_before, me_before = system_busy_seconds(), time.process_time()
        time.sleep(1.0)
        others = (
            system_busy_seconds()
            - busy_before
            - cpu_since(server.pid, server_before)
            - cpu_since(server.db_pid, db_before)
            - (time.process_time() - me_before)
        )
        if others < QUIET_CORES or time.monotonic() >= deadline:
            return max(others, 0.0)
        print(f"  waiting: other processes use {others:.2f} cores", flush=True)


def _print_run(backend: str, repeat: int, result: RunResult) -> None:
    bad = {k: v for k, v in result.outcomes.items() if k != "ok"}
    print(
        f"  {backend:<8} r{repeat} c{result.concurrency:<3} {result.kind:<13} "
        f"{result.rate:>8,.0f}/s  p50 {result.percentile(50):6.2f} ms  "
        f"p99 {result.percentile(99):6.2f} ms  sent {result.sent:>6}  "
        f"cores: server {_cores(result.server_cpu, result)} "
        f"db {_cores(result.db_cpu, result)} client {_cores(result.client_cpu, result)} "
        f"others {_cores(result.other_cpu, result)}" + (f"  NOT OK: {bad}" if bad else ""),
        flush=True,
    )


def _cores(cpu: float, result: RunResult) -> str:
    return f"{cpu / result.elapsed:.2f}" if result.elapsed > 0 else "-"


@contextmanager
def probe(
    home: Path, pop: Population, args: argparse.Namespace, runner: Runner
) -> Iterator[tuple[ProbeServer, Population] | None]:
    """The bare probe on its own SQLite file holding the same users (same names and seeds,
    their own counters), with as many workers as Twostep; None when not wanted."""
    if args.no_probe:
        yield None
        return
    database = home / "probe.db"
    create_database(database, ((u.name, u.seed) for u in pop.users))
    workers = args.workers or default_workers("sqlite")
    key = secrets.token_urlsafe(32)
    users = [BenchUser(u.name, u.seed) for u in pop.users]
    twin = dataclasses.replace(pop, key=key, users=users)
    server = ProbeServer(home, postgres.free_port(), workers, database, key)
    try:
        server.start()
        print(f"  probe: bench/probe.py, {workers} workers, {len(users)} users", flush=True)
        for plan in (
            health_plan(server.port, 16, 500),
            validate_plan(twin, server.port, 16, 500, good=True),
        ):
            _measure(runner, twin, server, plan, args.seconds)
        check_replay(runner, twin, server)
        yield server, twin
    finally:
        server.stop()


def _plans(pop: Population, port: int, level: int, total: int, prefix: str = "") -> list[Plan]:
    plans = [
        health_plan(port, level, total),
        validate_plan(pop, port, level, total, good=True),
        validate_plan(pop, port, level, total, good=False),
    ]
    for plan in plans:
        plan.kind = prefix + plan.kind
    return plans


def throughput(backend: str, args: argparse.Namespace, runner: Runner) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"twostep-bench-{backend}-"))
    try:
        with database(backend) as (url, db_pid):
            pop = populate(home, url, args.users, args.setup)
            print(
                f"[{backend}] {len(pop.users)} users with a HOTP token created "
                f"({pop.setup_mode}) in {pop.setup_seconds:.1f}s",
                flush=True,
            )
            server = Server(home, postgres.free_port(), args.workers, url, db_pid)
            try:
                code_at_start = report.commit()
                server.start()
                print(_indent(server.output()), flush=True)
                print(f"  server code: commit {code_at_start}", flush=True)
                port = server.port
                # Warm-up (not reported): pools, imports, first-use caches.
                for plan in (
                    health_plan(port, 16, 500),
                    validate_plan(pop, port, 16, 500, good=True),
                ):
                    _measure(runner, pop, server, plan, args.seconds)
                check_replay(runner, pop, server)
                runs: list[RunResult] = []
                with probe(home, pop, args, runner) if backend == "sqlite" else _none() as bare:
                    for repeat in range(1, args.repeat + 1):
                        for level in args.levels:
                            # Twostep, then the probe, back to back at each level.
                            targets: list[tuple[Server, Population, str]] = [(server, pop, "")]
                            if bare is not None:
                                targets.append((bare[0], bare[1], "probe-"))
                            for target, people, prefix in targets:
                                wait_for_quiet(target, args.quiet_wait)
                                if not prefix:
                                    pop.unlock_all()
                                for plan in _plans(
                                    people, target.port, level, args.requests, prefix
                                ):
                                    result = _measure(runner, people, target, plan, args.seconds)
                                    _print_run(backend, repeat, result)
                                    runs.append(result)
                memory = tree_memory(server.pid)
                code_at_end = report.commit()
                if code_at_end != code_at_start:
                    print(f"  WARNING: the code changed during the runs ({code_at_end})")
            finally:
                server.stop()
                pop.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    rows = [
        report.summarize(backend, level, [r for r in runs if r.concurrency == level])
        for level in args.levels
    ]
    print(report.memory_table(f"[{backend}] server memory after the runs", memory), flush=True)
    return {
        "backend": backend,
        "database": _database_label(backend),
        "users": len(pop.users),
        "setup": pop.setup_mode,
        "setup_seconds": round(pop.setup_seconds, 2),
        "commit": code_at_start,
        "commit_changed_to": None if code_at_end == code_at_start else code_at_end,
        "rows": rows,
        "runs": [r.summary() for r in runs],
        "memory_after_runs": [m.as_dict() for m in memory],
    }


@contextmanager
def _none() -> Iterator[None]:
    yield None


def _database_label(backend: str) -> str:
    return {
        "sqlite": "SQLite, WAL, synchronous=NORMAL",
        "postgres": "PostgreSQL, default durability (fsync, synchronous_commit on)",
        "pg-fast": "PostgreSQL, fsync=off, synchronous_commit=off, full_page_writes=off",
    }[backend]


def profile(args: argparse.Namespace, runner: Runner) -> dict[str, Any]:
    """One Twostep process (``serve --workers 1``) under cProfile on SQLite, driven with
    accepted validations at the highest concurrency; prints where its time went."""
    home = Path(tempfile.mkdtemp(prefix="twostep-bench-profile-"))
    level = max(args.levels)
    try:
        pop = populate(home, None, args.users, args.setup)
        server = Server(home, postgres.free_port(), 1, None)
        server.profile = args.profile.resolve()
        try:
            server.start()
            warm_up = validate_plan(pop, server.port, level, 500, good=True)
            _measure(runner, pop, server, warm_up, args.seconds)
            wait_for_quiet(server, args.quiet_wait)
            plain = validate_plan(pop, server.port, level, args.requests, good=True)
            unprofiled = _measure(runner, pop, server, plain, args.seconds)
            _print_run("sqlite", 0, unprofiled)
            results = []
            os.kill(server.pid, signal.SIGUSR1)  # bench/profiled.py: profile from here
            for repeat in range(1, args.repeat + 1):
                plan = validate_plan(pop, server.port, level, args.requests, good=True)
                result = _measure(runner, pop, server, plan, args.seconds)
                _print_run("sqlite", repeat, result)
                results.append(result)
            os.kill(server.pid, signal.SIGUSR2)  # to here
        finally:
            server.stop()  # SIGTERM: the server returns and cProfile writes the profile
            pop.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    validations = sum(r.sent for r in results)
    cpu = sum(r.server_cpu for r in results)
    print(
        f"\nprofile of one worker: {validations} validations, {cpu:.2f} CPU seconds "
        f"({cpu / validations * 1e6:.0f} us per validation under the profiler; "
        f"{unprofiled.server_cpu / unprofiled.sent * 1e6:.0f} us without it, run r0)"
    )
    stats = pstats.Stats(str(args.profile))
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"  {total:.2f} s of profiled time: {total / validations * 1e6:.0f} us per validation")
    for sort in ("tottime", "cumulative"):
        stats.sort_stats(sort).print_stats(25)
    return {
        "validations": validations,
        "unprofiled": unprofiled.summary(),
        "runs": [r.summary() for r in results],
    }


def memory(backend: str, args: argparse.Namespace, runner: Runner) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"twostep-bench-mem-{backend}-"))
    try:
        with database(backend) as (url, db_pid):
            pop = populate(home, url, args.memory_users, "bulk")
            print(
                f"[{backend}] {len(pop.users):,} users with a HOTP token created "
                f"({pop.setup_mode}) in {pop.setup_seconds:.1f}s",
                flush=True,
            )
            server = Server(home, postgres.free_port(), args.workers, url, db_pid)
            try:
                code = report.commit()
                server.start()
                print(_indent(server.output()), flush=True)
                print(f"  server code: commit {code}", flush=True)
                idle = tree_memory(server.pid)
                print(report.memory_table(f"[{backend}] idle after start", idle), flush=True)
                wait_for_quiet(server, args.quiet_wait)
                touch = min(args.memory_touch, len(pop.users))
                level = max(args.levels)  # every pooled connection in use
                plan = validate_plan(pop, server.port, level, touch, good=True)
                result = _measure(runner, pop, server, plan, max(args.seconds, 120.0))
                _print_run(backend, 1, result)
                loaded = tree_memory(server.pid)
                label = f"[{backend}] after {result.ok:,} validations of distinct users"
                print(report.memory_table(label, loaded), flush=True)
            finally:
                server.stop()
                pop.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {
        "backend": backend,
        "users": args.memory_users,
        "setup_seconds": round(pop.setup_seconds, 2),
        "commit": code,
        "idle": [m.as_dict() for m in idle],
        "after_load": [m.as_dict() for m in loaded],
        "load_run": result.summary(),
    }


def _indent(text: str) -> str:
    return "\n".join(f"  | {line}" for line in text.splitlines())


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)  # unwinds through the ``finally`` blocks that stop the servers


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    backends = BACKENDS[args.backend]
    machine = report.machine()
    print(
        f"machine: {machine['cpus']} CPU(s), {machine['cpu_model']}, "
        f"Python {machine['python']}, {machine['platform']}; commit {machine['commit']}",
        flush=True,
    )
    started = time.monotonic()
    output: dict[str, Any] = {"machine": machine, "argv": sys.argv, "results": []}
    with asyncio.Runner(loop_factory=_loop_factory()) as loop:

        def runner(port: int, plan: Plan, seconds: float) -> RunResult:
            return loop.run(loadgen.run(port, plan, seconds))

        if args.profile:
            output["results"].append(profile(args, runner))
            backends = []
        for backend in backends:
            if args.memory:
                output["results"].append(memory(backend, args, runner))
            else:
                output["results"].append(throughput(backend, args, runner))
    if not args.memory and not args.profile:
        rows = [row for res in output["results"] for row in res["rows"]]
        print()
        print(report.throughput_table(rows))
        if any(row.get("probe-success_runs") for row in rows):
            print()
            print(report.probe_table(rows))
        for verdict in report.targets(rows):
            print(verdict)
    print(f"total time {time.monotonic() - started:.0f}s")
    if args.json:
        args.json.write_text(json.dumps(output, indent=2, default=str))
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
