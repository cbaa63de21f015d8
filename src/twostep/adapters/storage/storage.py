"""``SqlStorage``: the ``Storage`` port over one SQLAlchemy engine."""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import QueuePool

from twostep.adapters.storage.repos.admin_events import SqlAdminEventRepo
from twostep.adapters.storage.repos.app_passwords import SqlAppPasswordRepo
from twostep.adapters.storage.repos.audit import SqlAuditRepo
from twostep.adapters.storage.repos.billing import SqlBillingRepo
from twostep.adapters.storage.repos.challenges import SqlChallengeRepo
from twostep.adapters.storage.repos.credentials import SqlAdminKeyRepo, SqlIntegrationRepo
from twostep.adapters.storage.repos.deliveries import SqlDeliveryRepo
from twostep.adapters.storage.repos.delivery_counts import SqlDeliveryCountRepo
from twostep.adapters.storage.repos.devices import SqlActivationRepo, SqlDeviceRepo
from twostep.adapters.storage.repos.directories import (
    SqlDirectoryRepo,
    SqlDirectoryUserRepo,
    SqlLeaseRepo,
)
from twostep.adapters.storage.repos.gateways import SqlGatewayRepo
from twostep.adapters.storage.repos.hosted_signin import SqlSigninRepo
from twostep.adapters.storage.repos.methods import SqlMethodRepo
from twostep.adapters.storage.repos.migrations import SqlMigrationRepo
from twostep.adapters.storage.repos.pages import SqlAdminGrantRepo, SqlPageSessionRepo
from twostep.adapters.storage.repos.passwords import SqlPasswordRepo
from twostep.adapters.storage.repos.providers import SqlProviderRepo
from twostep.adapters.storage.repos.radius_clients import SqlRadiusClientRepo
from twostep.adapters.storage.repos.remembered import SqlRememberedDeviceRepo, SqlVoicePromptRepo
from twostep.adapters.storage.repos.sealed import SqlSealedRepo
from twostep.adapters.storage.repos.self_service import (
    SqlEnrollmentLinkRepo,
    SqlSignInReportRepo,
)
from twostep.adapters.storage.repos.subjects import SqlSubjectRepo
from twostep.adapters.storage.repos.tenants import SqlTenantRepo
from twostep.adapters.storage.repos.token_imports import SqlImportJobRepo
from twostep.adapters.storage.repos.tokens import SqlTokenPoolRepo
from twostep.adapters.storage.repos.usage import SqlUsageRepo
from twostep.adapters.storage.repos.users import SqlUserRepo
from twostep.adapters.storage.writelock import WriteLock
from twostep.domain.audit import AuditEvent
from twostep.domain.errors import Conflict
from twostep.domain.ports.metrics import NO_METRICS, Metrics


class _CountedAudit(SqlAuditRepo):
    """Keeps the events it wrote, for the metrics once the transaction commits."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.added: list[AuditEvent] = []

    def add(self, tenant_id: int, event: AuditEvent) -> None:
        super().add(tenant_id, event)
        self.added.append(event)


class _CountedUsers(SqlUserRepo):
    """Notes the users it locked, for the metrics once the transaction commits."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.locks: list[str] = []

    def record_failure(
        self, user_id: int, now: float, max_failures: int, lock_until: float
    ) -> bool:
        locked = super().record_failure(user_id, now, max_failures, lock_until)
        if locked:
            self.locks.append("failures")
        return locked

    def lock(self, user_id: int, until: float) -> None:
        super().lock(user_id, until)
        self.locks.append("fraud")  # its one caller: a fraud report


_Repo = TypeVar("_Repo")


class _repo(Generic[_Repo]):  # noqa: N801 - used as a decorator, like cached_property
    """``functools.cached_property`` without its lock: Python 3.11's takes an ``RLock`` on
    each first access (~3 us), four times per validation, and a unit of work belongs to one
    thread. Made on first use, then an attribute of the instance."""

    def __init__(self, make: Callable[[SqlTransaction], _Repo]) -> None:
        self.make = make
        self.name = make.__name__

    @overload
    def __get__(self, tx: None, owner: type[Any]) -> _repo[_Repo]: ...

    @overload
    def __get__(self, tx: SqlTransaction, owner: type[Any]) -> _Repo: ...

    def __get__(self, tx: SqlTransaction | None, owner: type[Any]) -> _repo[_Repo] | _Repo:
        if tx is None:
            return self
        made = self.make(tx)
        tx.__dict__[self.name] = made  # found there from now on (a non-data descriptor)
        return made


class SqlTransaction:
    """The repositories of one unit of work, each made on first use: a validation touches
    three of the fourteen."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @_repo
    def tenants(self) -> SqlTenantRepo:
        return SqlTenantRepo(self.conn)

    @_repo
    def users(self) -> _CountedUsers:
        return _CountedUsers(self.conn)

    @_repo
    def methods(self) -> SqlMethodRepo:
        return SqlMethodRepo(self.conn)

    @_repo
    def tokens(self) -> SqlTokenPoolRepo:
        return SqlTokenPoolRepo(self.conn)

    @_repo
    def token_imports(self) -> SqlImportJobRepo:
        return SqlImportJobRepo(self.conn)

    @_repo
    def migrations(self) -> SqlMigrationRepo:
        return SqlMigrationRepo(self.conn)

    @_repo
    def integrations(self) -> SqlIntegrationRepo:
        return SqlIntegrationRepo(self.conn)

    @_repo
    def admin_keys(self) -> SqlAdminKeyRepo:
        return SqlAdminKeyRepo(self.conn)

    @_repo
    def audit(self) -> _CountedAudit:
        return _CountedAudit(self.conn)

    @_repo
    def subjects(self) -> SqlSubjectRepo:
        return SqlSubjectRepo(self.conn)

    @_repo
    def challenges(self) -> SqlChallengeRepo:
        return SqlChallengeRepo(self.conn)

    @_repo
    def deliveries(self) -> SqlDeliveryRepo:
        return SqlDeliveryRepo(self.conn)

    @_repo
    def delivery_counts(self) -> SqlDeliveryCountRepo:
        return SqlDeliveryCountRepo(self.conn)

    @_repo
    def gateways(self) -> SqlGatewayRepo:
        return SqlGatewayRepo(self.conn)

    @_repo
    def devices(self) -> SqlDeviceRepo:
        return SqlDeviceRepo(self.conn)

    @_repo
    def activations(self) -> SqlActivationRepo:
        return SqlActivationRepo(self.conn)

    @_repo
    def radius_clients(self) -> SqlRadiusClientRepo:
        return SqlRadiusClientRepo(self.conn)

    @_repo
    def passwords(self) -> SqlPasswordRepo:
        return SqlPasswordRepo(self.conn)

    @_repo
    def sealed(self) -> SqlSealedRepo:
        return SqlSealedRepo(self.conn)

    @_repo
    def admin_events(self) -> SqlAdminEventRepo:
        return SqlAdminEventRepo(self.conn)

    @_repo
    def app_passwords(self) -> SqlAppPasswordRepo:
        return SqlAppPasswordRepo(self.conn)

    @_repo
    def directories(self) -> SqlDirectoryRepo:
        return SqlDirectoryRepo(self.conn)

    @_repo
    def directory_users(self) -> SqlDirectoryUserRepo:
        return SqlDirectoryUserRepo(self.conn)

    @_repo
    def leases(self) -> SqlLeaseRepo:
        return SqlLeaseRepo(self.conn)

    @_repo
    def admin_grants(self) -> SqlAdminGrantRepo:
        return SqlAdminGrantRepo(self.conn)

    @_repo
    def page_sessions(self) -> SqlPageSessionRepo:
        return SqlPageSessionRepo(self.conn)

    @_repo
    def signin(self) -> SqlSigninRepo:
        return SqlSigninRepo(self.conn)

    @_repo
    def enrollment_links(self) -> SqlEnrollmentLinkRepo:
        return SqlEnrollmentLinkRepo(self.conn)

    @_repo
    def signin_reports(self) -> SqlSignInReportRepo:
        return SqlSignInReportRepo(self.conn)

    @_repo
    def usage(self) -> SqlUsageRepo:
        return SqlUsageRepo(self.conn)

    @_repo
    def providers(self) -> SqlProviderRepo:
        return SqlProviderRepo(self.conn)

    @_repo
    def billing(self) -> SqlBillingRepo:
        return SqlBillingRepo(self.conn)

    @_repo
    def remembered_devices(self) -> SqlRememberedDeviceRepo:
        return SqlRememberedDeviceRepo(self.conn)

    @_repo
    def voice_prompts(self) -> SqlVoicePromptRepo:
        return SqlVoicePromptRepo(self.conn)


_LOCAL_HOSTS = {None, "", "localhost", "::1"}


@contextmanager
def _on_driver(conn: Connection, raw: sqlite3.Connection, write: bool) -> Iterator[None]:
    """A kept SQLite connection's transaction, begun and ended on the driver: SQLAlchemy's
    ``begin()``, its transaction object, its events and the execution option that picks
    the BEGIN cost more than the statements of a validation's read (which run on the
    driver: prepared.py). A statement through SQLAlchemy meanwhile (``conn.execute``)
    joins it: SQLAlchemy autobegins, engine.py's ``begin`` listener sees the driver in a
    transaction and adds no BEGIN, and the end goes through SQLAlchemy so that both agree.
    Errors are raised as SQLAlchemy raises a statement's (``DBAPIError``)."""
    _run(raw, "BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield
        if conn.in_transaction():
            conn.commit()
        else:
            _run(raw, "COMMIT")
    except BaseException:  # the work or the commit failed: nothing of it stays
        if not (conn.invalidated or conn.closed):  # else the caller drops the connection
            conn.rollback()  # SQLAlchemy's side, a failed commit's too (none: no-op)
            if raw.in_transaction:
                _run(raw, "ROLLBACK")
        raise


def _in_transaction(raw: sqlite3.Connection) -> bool:
    try:
        return raw.in_transaction
    except sqlite3.ProgrammingError:  # closed meanwhile by its thread: not in use
        return False


def _run(raw: sqlite3.Connection, sql: str) -> None:
    try:
        raw.execute(sql)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, None, exc, sqlite3.Error) from exc


class _Held:
    """A SQLite connection one thread keeps from one transaction to the next: checking a
    connection out of the pool and wrapping it in a new ``Connection`` cost about 10 us,
    twice per validation. Returned to the pool when its thread ends (an idle worker
    thread does), when a transaction leaves it unusable, and when the storage closes."""

    __slots__ = ("__weakref__", "conn", "pid", "raw")

    def __init__(self, conn: Connection) -> None:
        self.conn: Connection | None = conn
        self.raw: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        self.pid = os.getpid()  # a forked child must never use its parent's connection

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None and self.pid == os.getpid():
            conn.close()  # back to the pool (rolled back there if need be)

    def __del__(self) -> None:  # the thread keeping it ended (its thread-local went)
        with suppress(Exception):  # at exit the pool may be gone: nothing left to return to
            self.close()


class SqlStorage:
    def __init__(
        self, engine: Engine, *, inline: bool | None = None, metrics: Metrics = NO_METRICS
    ) -> None:
        self.engine = engine
        self.metrics = metrics  # told of audit events and lockouts once they are committed
        self._immediate = engine.dialect.name == "sqlite"
        host = engine.url.host
        local = self._immediate or host in _LOCAL_HOSTS or str(host).startswith("127.")
        # Calls cheap enough to make on the event loop: a thread hop (and many threads'
        # contention for the GIL) would cost more than the call. A remote database is
        # waited for in threads instead, so one slow round trip stalls one request only.
        self.inline = local if inline is None else inline
        # The engine each kind of transaction connects through, its options set once
        # (not per connection): ``[write]``. SQLite's writes take the write lock at BEGIN
        # (``BEGIN IMMEDIATE``: engine.py); reads need no snapshot across statements, and
        # on PostgreSQL autocommit saves the BEGIN and COMMIT round trips.
        self._engines: tuple[Engine, Engine] = (
            (engine, engine.execution_options(sqlite_immediate=True))
            if self._immediate
            else (engine.execution_options(isolation_level="AUTOCOMMIT"), engine)
        )
        # SQLite: each thread keeps one connection between its transactions (``_Held``),
        # at most as many as the pool's size (its overflow stays for the other threads).
        # PostgreSQL checks one out per transaction: its pool has no overflow, and a
        # network round trip costs far more than the checkout.
        pool = engine.pool
        self._hold_max = pool.size() if self._immediate and isinstance(pool, QueuePool) else 0
        self._local = threading.local()
        # Owned by their threads' locals: a thread's ending drops its one from here too.
        self._held: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._held_lock = threading.Lock()
        database = engine.url.database
        self._write_lock = (
            WriteLock(Path(f"{database}.lock"))
            if self._immediate and database and database != ":memory:"
            else None
        )

    def close(self) -> None:
        with self._held_lock:
            self._hold_max = 0  # no new ones
            held = list(self._held)
        for one in held:
            one.close()
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[SqlTransaction]:
        # One generator, the engines' options set once: this runs twice per validation.
        lock = self._write_lock if write else None
        if lock is not None:
            lock.acquire()
        try:
            held = self._held_connection()
            if held is None:  # PostgreSQL, a transaction inside another, or no room
                with self._engines[write].connect() as conn, conn.begin():
                    tx = SqlTransaction(conn)
                    yield tx
            else:
                kept = held.conn
                assert kept is not None
                try:
                    with _on_driver(kept, held.raw, write):
                        tx = SqlTransaction(kept)
                        yield tx
                except BaseException:
                    # Broken, or left in a transaction (a rollback that failed): the next
                    # gets a new one, and the pool's reset rolls this one back.
                    if kept.invalidated or kept.closed or _in_transaction(held.raw):
                        held.close()
                    raise
        except IntegrityError as exc:
            # Two writers raced past the same existence check: the loser hears 409.
            raise Conflict("a concurrent change conflicts with this one; retry") from exc
        finally:
            if lock is not None:
                lock.release()
        self._committed(tx)  # committed (and the lock released): what it did counts

    def kept_idle(self) -> int:
        """Connections threads keep between transactions that are not in one now: checked
        out of the pool, yet not in use (the pool gauge leaves them out)."""
        with self._held_lock:
            kept = [held for held in self._held if held.conn is not None]
        return sum(1 for held in kept if not _in_transaction(held.raw))

    def _held_connection(self) -> _Held | None:
        """This thread's connection, kept since its last transaction (made now if there
        is room); None: check one out of the pool for this transaction."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None and held.conn is not None and held.pid == os.getpid():
            # Already in a transaction: a transaction opened inside another one.
            return None if held.raw.in_transaction else held
        if not self._hold_max:
            return None
        with self._held_lock:
            if len(self._held) >= self._hold_max:
                return None
            held = _Held(self.engine.connect())
            self._held.add(held)
        self._local.held = held
        return held

    def _committed(self, tx: SqlTransaction) -> None:
        made = vars(tx)  # the repositories this unit of work used (_repo)
        audit: _CountedAudit | None = made.get("audit")
        if audit is not None:
            for event in audit.added:
                self.metrics.audited(event)
        users: _CountedUsers | None = made.get("users")
        if users is not None:
            for cause in users.locks:
                self.metrics.locked(cause)
