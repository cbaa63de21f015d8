"""Which connection a transaction runs on. On SQLite each thread keeps one connection from
one transaction to the next (a pool checkout per transaction cost about a tenth of a
validation); it is given back when the thread ends, replaced when it breaks, never more of
them than the pool's size, and a transaction inside another still gets its own. On
PostgreSQL every transaction checks one out of the pool and gives it back."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from twostep.adapters.storage.engine import make_engine
from twostep.adapters.storage.storage import SqlStorage
from twostep.domain.errors import Conflict

# Tests without it run on SQLite only (the database_url fixture's default).
BOTH = pytest.mark.usefixtures("backend")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url, pool_size=2)
    yield made
    made.dispose()


@pytest.fixture
def storage(engine: Engine) -> Iterator[SqlStorage]:
    made = SqlStorage(engine)
    yield made
    made.close()


def _driver(storage: SqlStorage, *, write: bool = False) -> Any:
    with storage.transaction(write=write) as tx:
        tx.conn.execute(text("SELECT 1"))
        return tx.conn.connection.driver_connection


def _checked_out(engine: Engine) -> int:
    return int(engine.pool.checkedout())  # type: ignore[attr-defined]


def test_a_thread_keeps_its_connection_between_transactions(
    storage: SqlStorage, engine: Engine
) -> None:
    first = _driver(storage)
    assert _driver(storage, write=True) is first
    assert _driver(storage) is first
    assert _checked_out(engine) == 1  # kept by this thread, not returned


def test_reads_and_writes_on_the_kept_connection_begin_as_before(storage: SqlStorage) -> None:
    """A write takes the write lock at BEGIN (``BEGIN IMMEDIATE``), a read does not: seen by
    whether another connection may write while the transaction is open."""
    with storage.transaction(write=True) as tx:
        tx.conn.execute(text("SELECT 1"))
        assert _other_can_write(storage) is False
    with storage.transaction() as tx:
        tx.conn.execute(text("SELECT 1"))
        assert _other_can_write(storage) is True
    with storage.transaction(write=True) as tx:
        assert _other_can_write(storage) is False


def _other_can_write(storage: SqlStorage) -> bool:
    database = storage.engine.url.database
    assert database is not None
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:  # database is locked
        return False
    finally:
        other.close()


def test_a_broken_connection_is_replaced_not_kept(storage: SqlStorage) -> None:
    first = _driver(storage)
    with pytest.raises(RuntimeError), storage.transaction() as tx:
        tx.conn.invalidate()  # what SQLAlchemy does when the driver reports a disconnect
        raise RuntimeError("the statement failed")
    second = _driver(storage)
    assert second is not first
    assert _driver(storage) is second


def test_a_failed_transaction_rolls_back_and_keeps_the_connection(storage: SqlStorage) -> None:
    first = _driver(storage, write=True)
    with pytest.raises(RuntimeError), storage.transaction(write=True) as tx:
        tx.conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
        raise RuntimeError("after the statement")
    with storage.transaction() as tx:
        found = tx.conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'scratch'"))
        assert found.first() is None
    assert _driver(storage) is first


def _scratch(storage: SqlStorage) -> list[tuple[int, str]]:
    with storage.transaction() as tx:
        rows = tx.conn.execute(text("SELECT x, how FROM scratch ORDER BY x"))
        return [(x, how) for x, how in rows]


@pytest.mark.parametrize("fails", [False, True], ids=["commits", "fails"])
def test_driver_and_sqlalchemy_statements_share_the_kept_connections_transaction(
    storage: SqlStorage, fails: bool
) -> None:
    """The kept connection's transaction is begun and ended on the driver (prepared.py's
    hot statements run there); a statement through SQLAlchemy joins the same transaction,
    so both are committed together or rolled back together."""
    with storage.transaction(write=True) as tx:
        tx.conn.execute(text("CREATE TABLE scratch (x INTEGER, how TEXT)"))
    with (
        pytest.raises(RuntimeError) if fails else nullcontext(),
        storage.transaction(write=True) as tx,
    ):
        driver = tx.conn.connection.driver_connection
        driver.execute("INSERT INTO scratch VALUES (1, 'driver')")
        tx.conn.execute(text("INSERT INTO scratch VALUES (2, 'sqlalchemy')"))
        driver.execute("INSERT INTO scratch VALUES (3, 'driver')")
        if fails:
            raise RuntimeError("after the statements")
    expected = [] if fails else [(1, "driver"), (2, "sqlalchemy"), (3, "driver")]
    assert _scratch(storage) == expected
    assert _other_can_write(storage) is True  # nothing left open


@pytest.mark.parametrize("through", ["driver", "sqlalchemy"])
def test_a_failed_commit_rolls_back_and_frees_the_writers(
    storage: SqlStorage, through: str
) -> None:
    """A commit refused (here a deferred foreign key; on a real server a full disk or an I/O
    error) leaves nothing written and no transaction open: the database's write lock is
    free for the next writer, and this thread's next transaction works."""
    with storage.transaction(write=True) as tx:
        tx.conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        tx.conn.execute(
            text(
                "CREATE TABLE child (parent INTEGER"
                " REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    insert = "INSERT INTO child VALUES (99)"  # no such parent: refused at COMMIT only
    with pytest.raises(Conflict), storage.transaction(write=True) as tx:
        if through == "driver":
            tx.conn.connection.driver_connection.execute(insert)
        else:
            tx.conn.execute(text(insert))
    assert _other_can_write(storage) is True
    with storage.transaction(write=True) as tx:
        assert tx.conn.execute(text("SELECT count(*) FROM child")).scalar_one() == 0


def test_a_failed_begin_is_raised_as_sqlalchemy_raises_it(storage: SqlStorage) -> None:
    database = storage.engine.url.database
    assert database is not None
    _driver(storage)  # this thread keeps its connection from now on
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing
    try:
        _driver(storage).execute("PRAGMA busy_timeout=100")  # the kept one waits 0.1 s
        with pytest.raises(OperationalError, match="locked"), storage.transaction(write=True):
            pass
    finally:
        other.execute("ROLLBACK")
        other.close()
    with storage.transaction(write=True) as tx:  # and the connection is still good
        assert tx.conn.execute(text("SELECT 1")).scalar_one() == 1


@BOTH
def test_a_transaction_inside_another_gets_its_own_connection(
    storage: SqlStorage, engine: Engine
) -> None:
    with storage.transaction(write=True) as outer:
        with storage.transaction() as inner:
            assert inner.conn is not outer.conn
            assert inner.conn.execute(text("SELECT 1")).scalar_one() == 1
        assert outer.conn.execute(text("SELECT 2")).scalar_one() == 2
    kept = 1 if engine.dialect.name == "sqlite" else 0
    assert _checked_out(engine) == kept  # the inner one went back to the pool


@BOTH
def test_no_more_threads_keep_one_than_the_pool_holds(storage: SqlStorage, engine: Engine) -> None:
    """Five threads, a pool of two (and two of overflow on SQLite): two keep theirs, the
    others check one out per transaction and give it back, so none waits for a connection."""
    threads = 5
    done = threading.Barrier(threads + 1, timeout=30)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                _driver(storage)
                _driver(storage, write=True)
        except BaseException as exc:  # reported below
            failures.append(exc)
        done.wait()  # alive (and so keeping its connection) until counted
        done.wait()

    started = [threading.Thread(target=work) for _ in range(threads)]
    for thread in started:
        thread.start()
    done.wait()
    kept = 2 if engine.dialect.name == "sqlite" else 0
    assert _checked_out(engine) == kept
    done.wait()
    for thread in started:
        thread.join(timeout=30)
    assert failures == []
    assert _checked_out(engine) == 0  # given back as their threads ended


def test_closing_the_storage_closes_the_connections_threads_keep(
    engine: Engine,
) -> None:
    storage = SqlStorage(engine)
    with storage.transaction() as tx:
        kept = tx.conn
    storage.close()
    assert kept.closed
    assert _checked_out(engine) == 0


@BOTH
def test_only_sqlite_keeps_a_connection_after_a_transaction(
    storage: SqlStorage, engine: Engine
) -> None:
    _driver(storage)
    _driver(storage, write=True)
    assert _checked_out(engine) == (1 if engine.dialect.name == "sqlite" else 0)


def test_a_kept_connection_counts_as_idle_between_transactions_only(
    storage: SqlStorage, engine: Engine
) -> None:
    """What the pool gauge leaves out of the connections in use (adapters/metrics.py)."""
    assert storage.kept_idle() == 0
    with storage.transaction() as tx:
        tx.conn.execute(text("SELECT 1"))
        assert storage.kept_idle() == 0  # in a transaction: in use
    assert storage.kept_idle() == 1
    assert _checked_out(engine) - storage.kept_idle() == 0
