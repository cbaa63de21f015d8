"""SQLite backups and restores through SQLite's online backup API, and the lock that tells
a restore a server is running on the database.

A backup reads the database in one read transaction (WAL mode: writers go on meanwhile),
so the copy is the database as of one commit. It is written to a temporary file beside
the destination, made one self-contained file (journal mode DELETE, no ``-wal``), checked,
synced, then renamed into place: a crash leaves the old file or the new one, never half.

A restore copies the backup into the live database through the same API: SQLite writes it
as one transaction, so other connections see the old database or the restored one. A
running ``twostep serve`` holds a shared ``flock`` on ``<database>-serve.lock`` for its life
(its forked workers share it); a restore takes it exclusively, so it knows a server runs,
and a server started meanwhile waits for the restore to finish.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from twostep.adapters.storage.writelock import WriteLock

_HELD: list[int] = []  # the serving lock's descriptor, kept open for the process's life


class BackupRefused(Exception):
    """A backup or restore that would be wrong to do: the message says why."""


@dataclass(frozen=True, slots=True)
class Copied:
    path: Path
    revision: str
    size: int


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL (or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database)).resolve()


def serve_lock_path(database: Path) -> Path:
    return database.with_name(f"{database.name}-serve.lock")


def hold_serving_lock(url: str, on_wait: Callable[[], None] | None = None) -> None:
    """Take the serving lock, shared, for the rest of this process's life (``serve``):
    several servers may share a database; a restore may not run under any of them. A
    restore in progress holds it exclusively: wait for it (``on_wait`` says so first)."""
    database = sqlite_path(url)
    if database is None:
        return
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a first start
    fd = os.open(serve_lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        if on_wait is not None:
            on_wait()
        fcntl.flock(fd, fcntl.LOCK_SH)
    _HELD.append(fd)


def held_serving_locks() -> list[int]:
    """The descriptors of the serving locks this process holds (``serve`` keeps them open
    across its exec into the supervisor)."""
    return list(_HELD)


@contextlib.contextmanager
def no_server(database: Path, *, force: bool) -> Iterator[bool]:
    """Hold the serving lock exclusively for the block; yields whether a server was seen
    (only with ``force``: without it, a running server refuses the restore)."""
    fd = os.open(serve_lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not force:
                raise BackupRefused(
                    f"a server seems to be running on {database} (it holds "
                    f"{serve_lock_path(database)}): stop it first, or restore with --force"
                ) from None
            yield True
            return
        yield False
    finally:
        os.close(fd)


def revision_of(path: Path) -> str:
    """The schema revision of the Twostep database in ``path``, read without changing it."""
    if not path.is_file():
        raise BackupRefused(f"{path} is not a file")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupRefused(f"cannot open {path}: {exc}") from exc
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise BackupRefused(f"{path} is a damaged SQLite database ({check and check[0]})")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        # "file is not a database", or no alembic_version table: not one of ours.
        raise BackupRefused(f"{path} is not a Twostep database ({exc})") from exc
    finally:
        conn.close()
    if row is None:
        raise BackupRefused(f"{path} is not a Twostep database (it has no schema revision)")
    return str(row[0])


def backup(url: str, destination: Path, *, force: bool = False) -> Copied:
    """Copy the live SQLite database to ``destination`` (mode 0600), atomically."""
    source = _existing(url)
    destination = destination.resolve()
    if destination == source or destination.name.startswith(f"{source.name}-"):
        raise BackupRefused(f"{destination} is the database itself (or one of its files)")
    if destination.exists() and not force:
        raise BackupRefused(f"{destination} exists: choose another name, or add --force")
    if destination.is_dir():
        raise BackupRefused(f"{destination} is a directory")
    temporary = _new_private_file(destination)
    try:
        _copy(source, temporary, journal_mode="DELETE")
        revision = revision_of(temporary)
        _fsync(temporary)
        os.replace(temporary, destination)
        _fsync(destination.parent)
    finally:
        temporary.unlink(missing_ok=True)
    return Copied(destination, revision, destination.stat().st_size)


def staged(backup_file: Path, database: Path) -> Path:
    """A private copy of ``backup_file`` beside ``database``, to upgrade and check before
    it replaces anything (the backup itself is never changed)."""
    staging = _new_private_file(database.with_name(f".{database.name}.restore"))
    try:
        _copy(backup_file.resolve(), staging, journal_mode="DELETE")
    except BaseException:
        discard(staging)
        raise
    return staging


def replace_with(database: Path, staging: Path) -> None:
    """Make the live ``database`` the staged copy, in one SQLite transaction, queued
    behind (and ahead of) the server's writers on their write lock."""
    if not database.exists():
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    lock = WriteLock(Path(f"{database}.lock"))  # the lock SqlStorage's writers queue on
    try:
        with lock.held():
            _copy(staging, database, journal_mode="WAL")
    finally:
        lock.close()


def discard(staging: Path) -> None:
    """Remove a staged copy and the files SQLite and the storage made beside it."""
    for suffix in ("", "-wal", "-shm", "-journal", ".lock", "-migrate.lock"):
        Path(f"{staging}{suffix}").unlink(missing_ok=True)


def _existing(url: str) -> Path:
    database = sqlite_path(url)
    if database is None:
        raise BackupRefused("not a SQLite database")
    if not database.is_file():
        raise BackupRefused(f"no database at {database}")
    return database


def _new_private_file(near: Path) -> Path:
    path = near.with_name(f".{near.name}.{secrets.token_hex(4)}.tmp")
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:  # no such directory, no permission, a read-only file system
        raise BackupRefused(f"cannot write in {near.parent}: {exc.strerror}") from exc
    return path


def _copy(source: Path, target: Path, *, journal_mode: str) -> None:
    """SQLite's online backup of ``source`` into ``target``, in one step: one read
    transaction on the source, one write transaction on the target."""
    reader = sqlite3.connect(source, timeout=15)
    writer = sqlite3.connect(target, timeout=15, isolation_level=None)
    try:
        writer.execute(f"PRAGMA journal_mode={journal_mode}")
        reader.backup(writer)
        writer.execute(f"PRAGMA journal_mode={journal_mode}")
    except sqlite3.Error as exc:
        raise BackupRefused(f"cannot copy {source} to {target}: {exc}") from exc
    finally:
        writer.close()
        reader.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
