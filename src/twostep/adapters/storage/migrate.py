"""Run the named Alembic migrations programmatically (``twostep db upgrade``, ``serve``)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import URL, Connection, Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


MIGRATION_LOCK = 0x7475_6F73  # any constant shared by every node: PostgreSQL advisory lock


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the database-wide migration lock until the
    block ends (or the process dies): PostgreSQL's advisory lock; for SQLite, a lock file
    beside the database taken before connecting, because a new file's first connections
    switch it to WAL at once and SQLite refuses those without waiting ("database is
    locked"), then the write lock (BEGIN IMMEDIATE). Waits for as long as another
    process holds it."""
    with _sqlite_lock_file(engine.url), engine.connect() as raw:
        conn = raw.execution_options(sqlite_immediate=True)  # SQLite: BEGIN IMMEDIATE
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
            yield conn


@contextmanager
def _sqlite_lock_file(url: URL) -> Iterator[None]:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        yield
        return
    path = f"{url.database}-migrate.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by closing, or by the process's death
        yield
    finally:
        os.close(fd)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate under the migration lock, so nodes starting together migrate once: the
    first migrates, the others wait for it, then find nothing left to do."""
    config = _config()
    with migration_lock(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def is_known(revision: str) -> bool:
    """Whether this version has ``revision`` (a newer version's database: it has not)."""
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def autogenerate(engine: Engine, message: str, rev_id: str) -> None:
    """Developer helper: write a new migration from the difference to ``tables.py``."""
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
