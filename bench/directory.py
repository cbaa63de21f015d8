"""Directory sync benchmark: a full sync of 10,000 users and an incremental one after 100
changes, against a real slapd on loopback, into a fresh SQLite (and PostgreSQL when its
binaries are installed) database.

Each sync runs in a child process of its own (the way a node runs it): its wall time, the
growth of its peak resident memory over the sync (ru_maxrss after the sync less before it,
the app already built), and that peak. The baseline, measured in the same run, is the
directory only read (the adapter's paged scan of every entry, nothing stored): the ratio
says what taking the users into Twostep costs. Memory is also measured with 2,000 users,
to show it does not grow with the directory. Medians of ``--repeats`` runs.

    .venv/bin/python -m bench.directory --users 10000 --repeats 3

Bounded: fixed counts, every child with a timeout; loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import postgres
from tests.support.slapd import SlapdServer, SlapdTree

from bench.report import machine

TIMEOUT = 600.0
CHANGED = 100
FULL_TARGET = 20.0
INCREMENTAL_TARGET = 2.0


# -- the child: one sync, measured ------------------------------------------------------


def child(request: dict[str, Any]) -> dict[str, Any]:
    """Build the app over the database, add the directory if new, run one sync."""
    from twostep.bootstrap import build
    from twostep.config import Config
    from twostep.services.admin import OPERATOR

    config = Config.from_env(
        {
            "TWOSTEP_HOME": request["home"],
            "TWOSTEP_DATABASE_URL": request["database_url"],
            "TWOSTEP_SECRET_KEY": request["secret_key"],
        }
    )
    app = build(config)
    try:
        app.admin.ensure_default_tenant()
        if not app.directories.list(OPERATOR, "default"):
            app.directories.add(OPERATOR, "default", "corp", request["settings"])
        before = _peak_kib()
        started = time.perf_counter()
        if request["read_only"]:
            counts = {"seen": _read_only(app, request["settings"])}
        else:
            report = app.directory_sync.sync(OPERATOR, "default", "corp", full=request["full"])
            counts = report.counts.as_dict()
        seconds = time.perf_counter() - started
        peak = _peak_kib()
        return {
            "seconds": seconds,
            "rss_growth_kib": peak - before,
            "rss_peak_kib": peak,
            "counts": counts,
        }
    finally:
        app.close()


def _read_only(app: Any, settings: dict[str, Any]) -> int:
    from twostep.services.directories import parse_settings

    conn = app.directory_connector.connect(parse_settings(settings), settings["bind_password"])
    try:
        return sum(1 for _ in conn.users(None).entries)
    finally:
        conn.close()


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


# -- the parent ------------------------------------------------------------------------


@dataclass
class Database:
    backend: str
    url: str
    home: Path


def run_child(
    db: Database, settings: dict[str, Any], *, full: bool, read_only: bool = False
) -> dict[str, Any]:
    request = {
        "home": str(db.home),
        "database_url": db.url,
        "secret_key": SECRET_KEY,
        "settings": settings,
        "full": full,
        "read_only": read_only,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.directory", "--child"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the sync failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


SECRET_KEY = secrets.token_hex(32)


def fresh_database(
    backend: str, pg: postgres.PostgresServer | None, n: int, work: Path
) -> Database:
    from twostep.adapters.storage import migrate
    from twostep.adapters.storage.engine import make_engine

    home = work / f"{backend}-{n}"
    home.mkdir(parents=True)
    if backend == "postgres":
        assert pg is not None
        name = f"bench_directory_{n}"
        pg.psql(f"CREATE DATABASE {name}")
        url = pg.url(name)
    else:
        url = f"sqlite:///{home / 'twostep.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return Database(backend, url, home)


def settings_of(tree: SlapdTree) -> dict[str, Any]:
    settings = tree.ldap_settings(kind="active_directory", operation_timeout=60.0)
    values = settings.model_dump(mode="json", exclude={"bind_password"})
    assert settings.bind_password is not None
    values["bind_password"] = settings.bind_password.get_secret_value()
    return values


def measure(
    backend: str,
    pg: postgres.PostgresServer | None,
    tree: SlapdTree,
    users: list[Any],
    repeats: int,
    work: Path,
    counter: list[int],
) -> dict[str, Any]:
    settings = settings_of(tree)
    rows: list[dict[str, Any]] = []
    for repeat in range(repeats):
        counter[0] += 1
        db = fresh_database(backend, pg, counter[0], work)
        read = run_child(db, settings, full=True, read_only=True)
        full = run_child(db, settings, full=True)
        assert full["counts"]["created"] == len(users), full["counts"]
        for i in range(CHANGED):  # different users each repeat, a new value each time
            person = users[(repeat * CHANGED + i * 97) % len(users)]
            tree.modify_user(person, sn=f"Changed-{counter[0]}-{i}")
        incremental = run_child(db, settings, full=False)
        assert incremental["counts"]["changed"] == CHANGED, incremental["counts"]
        rows.append({"read": read, "full": full, "incremental": incremental})
    med = statistics.median
    return {
        "backend": backend,
        "users": len(users),
        "read_s": med(r["read"]["seconds"] for r in rows),
        "full_s": med(r["full"]["seconds"] for r in rows),
        "ratio": med(r["full"]["seconds"] / r["read"]["seconds"] for r in rows),
        "incremental_s": med(r["incremental"]["seconds"] for r in rows),
        "full_rss_mib": med(r["full"]["rss_growth_kib"] for r in rows) / 1024,
        "incremental_rss_mib": med(r["incremental"]["rss_growth_kib"] for r in rows) / 1024,
        "full_peak_mib": med(r["full"]["rss_peak_kib"] for r in rows) / 1024,
        "incremental_seen": med(r["incremental"]["counts"]["seen"] for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=2_000, help="the memory comparison's size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(sys.stdin.read()))))
        return

    pg = None
    if not args.no_postgres:
        try:
            pg = postgres.start()
        except FileNotFoundError:
            pg = None
    server = SlapdServer.create()
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="twostep-bench-") as work:
            counter = [0]
            large = server.new_tree()
            large_users = large.bulk_users(args.users)
            small = server.new_tree()
            small_users = small.bulk_users(args.small, prefix="small")
            for backend in ["sqlite"] + (["postgres"] if pg else []):
                for tree, users in ((small, small_users), (large, large_users)):
                    rows.append(
                        measure(backend, pg, tree, users, args.repeats, Path(work), counter)
                    )
    finally:
        server.destroy()
        if pg is not None:
            pg.stop()

    if args.json:
        print(json.dumps(rows))
        return
    print(machine())
    print(
        f"{'backend':<9} {'users':>6} {'read s':>7} {'full s':>7} {'ratio':>6} "
        f"{'incr s':>7} {'RSS+ full MiB':>14} {'RSS+ incr MiB':>14} {'peak full MiB':>14}"
    )
    for row in rows:
        print(
            f"{row['backend']:<9} {row['users']:>6} {row['read_s']:>7.2f} {row['full_s']:>7.2f} "
            f"{row['ratio']:>6.2f} {row['incremental_s']:>7.2f} {row['full_rss_mib']:>14.1f} "
            f"{row['incremental_rss_mib']:>14.1f} {row['full_peak_mib']:>14.1f}"
        )
    print(
        f"targets: full sync of 10,000 < {FULL_TARGET:.0f} s; incremental with {CHANGED} "
        f"changes < {INCREMENTAL_TARGET:.0f} s (presence sweep included)"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
