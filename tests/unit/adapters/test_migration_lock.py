"""Nodes that start together migrate once: the first takes the migration lock (PostgreSQL: an
advisory lock; SQLite: a lock file beside the database, then its write lock), the others
wait for it, however long it takes, and then find nothing left to do."""

from __future__ import annotations

import multiprocessing
import secrets
import threading
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import missing
from tests.support.postgres import PostgresServer
from twostep.adapters.storage import migrate
from twostep.adapters.storage.engine import make_engine

NODES = 3


def _node(url: str, start: Barrier, outcomes: multiprocessing.Queue[str]) -> None:
    engine = make_engine(url)
    try:
        start.wait(timeout=60)  # every node imported and connected: now all at once
        migrate.upgrade(engine)
        outcomes.put("migrated")
    except Exception as exc:  # reported to the test, which names it
        outcomes.put(f"{type(exc).__name__}: {exc}"[:300])
    finally:
        engine.dispose()


def _start_together(url: str) -> list[str]:
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter, as a node is
    start = spawn.Barrier(NODES)
    outcomes: multiprocessing.Queue[str] = spawn.Queue()
    nodes = [spawn.Process(target=_node, args=(url, start, outcomes)) for _ in range(NODES)]
    for node in nodes:
        node.start()
    results = [outcomes.get(timeout=120) for _ in nodes]
    for node in nodes:
        node.join(timeout=30)
    return results


@pytest.fixture
def fresh_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: no table, no revision."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/fresh.db"
    server: PostgresServer | None = request.getfixturevalue("pg_server")
    if server is None:
        missing("PostgreSQL")
    assert server is not None
    name = f"fresh_{secrets.token_hex(4)}"
    server.psql(f"CREATE DATABASE {name}")
    return server.url(name)


def test_nodes_starting_together_on_an_empty_database_migrate_it_once(
    fresh_database_url: str,
) -> None:
    assert _start_together(fresh_database_url) == ["migrated"] * NODES
    engine = make_engine(fresh_database_url)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [migrate.head_revision()]
    engine.dispose()


def test_a_node_waits_for_another_nodes_migration_however_long_it_takes(
    fresh_database_url: str,
) -> None:
    other_node = make_engine(fresh_database_url)
    waiting = make_engine(fresh_database_url)
    done = threading.Event()
    failed: list[BaseException] = []

    def migrate_now() -> None:
        try:
            migrate.upgrade(waiting)
        except BaseException as exc:  # handed to the test
            failed.append(exc)
        done.set()

    with migrate.migration_lock(other_node):
        worker = threading.Thread(target=migrate_now)
        worker.start()
        # Longer than SQLite's busy timeout here: still waiting, not failed.
        assert not done.wait(1.0), failed
    worker.join(timeout=60)
    assert done.is_set() and not failed
    assert migrate.current_revision(waiting) == migrate.head_revision()
    waiting.dispose()
    other_node.dispose()
