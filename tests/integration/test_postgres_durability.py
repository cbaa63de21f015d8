"""The throw-away PostgreSQL server: the tests' fast settings by default, PostgreSQL's own
durable defaults when a benchmark asks for them (``postgres.start(durable=True)``)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import missing
from tests.support import postgres

SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")


def _settings(durable: bool) -> dict[str, str]:
    try:
        server = postgres.start(durable=durable)
    except FileNotFoundError:
        missing("PostgreSQL")
        raise AssertionError("unreachable") from None
    try:
        engine = create_engine(server.url("postgres"))
        try:
            with engine.connect() as conn:
                return {name: conn.execute(text(f"SHOW {name}")).scalar_one() for name in SETTINGS}
        finally:
            engine.dispose()
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("durable", "expected"), [(False, "off"), (True, "on")], ids=["fast", "durable"]
)
def test_start_sets_every_durability_setting(durable: bool, expected: str) -> None:
    assert _settings(durable) == dict.fromkeys(SETTINGS, expected)
