"""SQLite's durability setting: ``synchronous`` is NORMAL unless the operator asks FULL,
applied to every pooled connection of the server's engine."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import text

from twostep.adapters.storage.engine import make_engine
from twostep.bootstrap import build
from twostep.config import Config
from twostep.domain.errors import InvalidSetting

# PRAGMA synchronous answers a number: 1 is NORMAL, 2 is FULL.
NORMAL, FULL = 1, 2


def synchronous_of_each(url: str, setting: str | None, connections: int = 3) -> set[int]:
    engine = make_engine(url) if setting is None else make_engine(url, sqlite_synchronous=setting)
    held = [engine.connect() for _ in range(connections)]  # distinct pooled connections
    try:
        return {c.execute(text("PRAGMA synchronous")).scalar_one() for c in held}
    finally:
        for conn in held:
            conn.close()
        engine.dispose()


def test_normal_is_the_default(tmp_path: Path) -> None:
    assert synchronous_of_each(f"sqlite:///{tmp_path / 'a.db'}", None) == {NORMAL}


def test_full_is_applied_to_every_connection(tmp_path: Path) -> None:
    assert synchronous_of_each(f"sqlite:///{tmp_path / 'a.db'}", "FULL") == {FULL}


def test_an_unknown_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidSetting):
        make_engine(f"sqlite:///{tmp_path / 'a.db'}", sqlite_synchronous="OFF")


def settings(tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "TWOSTEP_HOME": str(tmp_path / "home"),
        "TWOSTEP_SECRET_KEY": secrets.token_hex(32),
        **more,
    }


@pytest.mark.parametrize(("given", "expected"), [("full", FULL), ("Normal", NORMAL)])
def test_the_setting_reaches_the_servers_engine(tmp_path: Path, given: str, expected: int) -> None:
    config = Config.from_env(settings(tmp_path, TWOSTEP_SQLITE_SYNCHRONOUS=given))
    app = build(config, upgrade=True)
    try:
        with app.storage.engine.connect() as conn:
            assert conn.execute(text("PRAGMA synchronous")).scalar_one() == expected
    finally:
        app.close()


def test_the_setting_refuses_other_levels(tmp_path: Path) -> None:
    with pytest.raises(InvalidSetting, match="TWOSTEP_SQLITE_SYNCHRONOUS"):
        Config.from_env(settings(tmp_path, TWOSTEP_SQLITE_SYNCHRONOUS="OFF"))
