"""Engine construction: SQLite in WAL mode (the embedded default) or PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from twostep.domain.errors import InvalidSetting

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_SYNCHRONOUS = ("NORMAL", "FULL")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


POOL_SIZE = 16  # connections per process; the HTTP layer runs as many threads, no more


def make_engine(
    url: str, *, pool_size: int = POOL_SIZE, sqlite_synchronous: str = "NORMAL"
) -> Engine:
    """``sqlite_synchronous``: ``NORMAL`` (durable across a crash of the process in WAL
    mode; a power loss may undo the last commits) or ``FULL`` (every commit synced)."""
    if is_sqlite(url):
        if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise InvalidSetting(
                f"sqlite_synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)}",
                field="sqlite_synchronous",
            )
        return _sqlite_engine(url, pool_size, sqlite_synchronous)
    # No overflow: connections beyond the pool would be opened and closed per request,
    # and a new PostgreSQL session costs more than waiting for a pooled one.
    try:
        return create_engine(
            url,
            pool_size=pool_size,
            max_overflow=0,
            pool_recycle=3600,  # no pre-ping: it would cost a round trip per transaction
            future=True,
        )
    except ModuleNotFoundError as exc:  # the URL's driver is not installed
        raise InvalidSetting(
            f"the database URL needs the Python module {exc.name!r}, which is not installed: "
            "PostgreSQL takes a postgresql+psycopg:// URL and the postgres extra "
            "(pip install 'twostep[postgres]')",
            field="database_url",
        ) from exc


def _sqlite_engine(url: str, pool_size: int, synchronous: str) -> Engine:
    # Let SQLAlchemy drive transactions itself: the driver's own implicit BEGIN would
    # defer the write lock and make read-then-write upgrades fail under concurrency.
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "isolation_level": None},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")  # one of SQLITE_SYNCHRONOUS
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # On the driver's connection: SQLAlchemy's execution path (an execution context
        # and a result for a statement that returns nothing) cost more than the BEGIN.
        driver = conn.connection.driver_connection
        if driver.in_transaction:  # begun on the driver (storage.py's kept connections)
            return
        sql = "BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN"
        try:
            driver.execute(sql)
        except sqlite3.Error as exc:  # raised as SQLAlchemy raises a statement's error
            raise DBAPIError.instance(sql, None, exc, sqlite3.Error) from exc

    return engine


def prepare_sqlite_file(url: str) -> None:
    """Create the SQLite file owner-only before SQLite does (its WAL files inherit that)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    path = Path(parsed.database)
    if parsed.database != ":memory:" and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
