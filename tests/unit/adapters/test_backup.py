"""SQLite backups and restores (adapters/storage/backup.py) and the `twostep db backup` and
`twostep db restore` commands: what they refuse, and what they leave behind."""

from __future__ import annotations

import secrets
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.support.cli import twostep
from twostep.adapters.storage import backup, migrate
from twostep.adapters.storage.engine import make_engine

OLDER = "0008_method_destinations"


def database(tmp_path: Path, revision: str = "head") -> Path:
    path = tmp_path / "live" / "twostep.db"
    path.parent.mkdir()
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine, revision)
    engine.dispose()
    return path


def users(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM users ORDER BY name")]


def test_a_backup_is_one_private_file_at_the_databases_revision(tmp_path: Path) -> None:
    live = database(tmp_path)
    copied = backup.backup(f"sqlite:///{live}", tmp_path / "b.db")
    assert copied.path == tmp_path / "b.db"
    assert copied.revision == migrate.head_revision()
    assert stat.S_IMODE(copied.path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.db", "live"]  # no -wal, no temp
    with sqlite3.connect(copied.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_backup_replaces_a_file_only_when_forced(tmp_path: Path) -> None:
    live = database(tmp_path)
    (tmp_path / "b.db").write_text("keep me")
    with pytest.raises(backup.BackupRefused, match="exists"):
        backup.backup(f"sqlite:///{live}", tmp_path / "b.db")
    assert (tmp_path / "b.db").read_text() == "keep me"
    backup.backup(f"sqlite:///{live}", tmp_path / "b.db", force=True)
    assert backup.revision_of(tmp_path / "b.db") == migrate.head_revision()


def test_a_backup_where_it_cannot_write_is_refused_not_a_traceback(tmp_path: Path) -> None:
    live = database(tmp_path)
    with pytest.raises(backup.BackupRefused, match=r"cannot write in .*No such file"):
        backup.backup(f"sqlite:///{live}", tmp_path / "missing-dir" / "b.db")


def test_a_backup_never_overwrites_the_database_itself(tmp_path: Path) -> None:
    live = database(tmp_path)
    for target in (live, Path(f"{live}-wal")):
        with pytest.raises(backup.BackupRefused, match="the database itself"):
            backup.backup(f"sqlite:///{live}", target, force=True)


def test_only_a_twostep_database_has_a_revision(tmp_path: Path) -> None:
    (tmp_path / "text").write_text("not a database at all, but long enough to look like one")
    with pytest.raises(backup.BackupRefused, match="not a Twostep database"):
        backup.revision_of(tmp_path / "text")
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(backup.BackupRefused, match="not a Twostep database"):
        backup.revision_of(tmp_path / "other.db")
    with pytest.raises(backup.BackupRefused, match="not a file"):
        backup.revision_of(tmp_path / "missing.db")


def test_the_serving_lock_refuses_a_restore_unless_forced(tmp_path: Path) -> None:
    import fcntl
    import os

    live = database(tmp_path)
    fd = os.open(backup.serve_lock_path(live), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # what a running `twostep serve` holds
        refused = pytest.raises(backup.BackupRefused, match="server seems to be running")
        with refused, backup.no_server(live, force=False):
            pass
        with backup.no_server(live, force=True) as seen:
            assert seen
    finally:
        os.close(fd)
    with backup.no_server(live, force=False) as seen:
        assert not seen


# Through the command, as an operator runs it.


def test_restore_upgrades_an_older_backup_and_records_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWOSTEP_SECRET_KEY", secrets.token_hex(32))
    old = database(tmp_path, OLDER)
    home = tmp_path / "home"
    out = twostep(home, "db", "restore", str(old))
    assert f"(revision {OLDER}, upgraded to {migrate.head_revision()})" in out
    assert "0 stored secret(s)" in out
    assert backup.revision_of(home / "twostep.db") == migrate.head_revision()
    assert backup.revision_of(old) == OLDER  # the backup itself is never changed
    assert stat.S_IMODE((home / "twostep.db").stat().st_mode) == 0o600
    assert [p.name for p in home.iterdir() if p.name.startswith(".")] == []  # no staging left
    trail = twostep(home, "admin-events", "list")
    assert "database.restore" in trail


def test_restore_refuses_a_newer_or_foreign_file_changing_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWOSTEP_SECRET_KEY", secrets.token_hex(32))
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "alice")
    newer = tmp_path / "newer.db"
    backup.backup(f"sqlite:///{home / 'twostep.db'}", newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999_from_the_future'")
        conn.execute("DELETE FROM users")
    conn.close()
    out = twostep(home, "db", "restore", str(newer), ok=False)
    assert "revision 0999_from_the_future, which this version of Twostep does not know" in out
    (tmp_path / "notes.txt").write_text("x" * 4096)
    out = twostep(home, "db", "restore", str(tmp_path / "notes.txt"), ok=False)
    assert "not a Twostep database" in out
    assert "Traceback" not in out
    assert users(home / "twostep.db") == ["alice"]


def test_postgresql_is_backed_up_with_its_own_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWOSTEP_DATABASE_URL", "postgresql+psycopg://ts:hunter2@127.0.0.1:5/ts")
    out = twostep(tmp_path / "home", "db", "backup", str(tmp_path / "b.dump"), ok=False)
    assert "pg_dump --format=custom --file=twostep.dump 'postgresql://ts:***@127.0.0.1:5/ts'" in out
    out += twostep(tmp_path / "home", "db", "restore", __file__, ok=False)
    assert "pg_restore" in out
    assert "hunter2" not in out
    assert not (tmp_path / "b.dump").exists()


def test_a_first_start_makes_the_directory_for_its_serving_lock(tmp_path: Path) -> None:
    database = tmp_path / "new-home" / "twostep.db"
    backup.hold_serving_lock(f"sqlite:///{database}")  # held until this test run ends
    assert backup.serve_lock_path(database).exists()
    refused = pytest.raises(backup.BackupRefused, match="server seems to be running")
    with refused, backup.no_server(database, force=False):
        pass
