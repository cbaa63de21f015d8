"""What ``/readyz`` asks of the database: a round trip, and the schema's revision.

The head revision is read from the migration files' own ``revision`` / ``down_revision``
lines rather than through Alembic, which a serving worker never imports (it costs
memory in every worker; ``serve`` migrates before forking).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from twostep.adapters.storage.storage import SqlStorage

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_LINE = re.compile(r'^(revision|down_revision)\s*(?::[^=]*)?=\s*"([^"]+)"', re.MULTILINE)


@cache
def schema_head() -> str:
    """The revision no other migration names as its ``down_revision``."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        for name, value in _LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def database_revision(storage: SqlStorage) -> str | None:
    """The schema revision the database is at (one round trip); None before any
    migration. Raises :class:`DatabaseUnavailable` when the database does not answer."""
    try:
        with storage.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        if _no_table(exc):
            return None
        raise DatabaseUnavailable(type(exc).__name__) from exc


def _no_table(exc: SQLAlchemyError) -> bool:
    message = str(exc).lower()
    return "alembic_version" in message and (
        "no such table" in message or "does not exist" in message
    )


class DatabaseUnavailable(Exception):
    """The database did not answer; the message names the error's kind, never its text
    (which may quote a connection URL)."""
