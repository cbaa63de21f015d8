"""A rebuild of the usage rollups and the job's rounds exclude each other (the ``rollups``
lease): a round while a rebuild runs writes nothing, a second rebuild is refused, and a
round and a rebuild started at once, again and again while events arrive, leave the
rollups equal to a brute-force count: never an event counted twice, never one lost."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from tests.support.fakes import FakeClock
from tests.support.usage import Written, as_counter, brute_force, write
from twostep.adapters.storage import tables
from twostep.bootstrap import App
from twostep.domain.entities import Tenant
from twostep.domain.errors import Conflict
from twostep.domain.usage import Dimension
from twostep.services.admin import OPERATOR
from twostep.services.leases import Lease
from twostep.services.rollups import LEASE, REBUILD_LEASE_SECONDS, RollupJob

BY: tuple[Dimension, ...] = ("day", "integration", "interface", "method", "result", "reason")
FIRST, LAST = dt.date(2026, 10, 1), dt.date(2027, 2, 28)  # around FakeClock: 2027-01-15

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def tenant(app: App) -> Tenant:
    return app.admin.create_tenant(OPERATOR, "acme")


def events(tenant: Tenant, clock: FakeClock, first: int, n: int) -> list[Written]:
    results = [("accept", None), ("reject", "invalid_code"), ("challenge", None)]
    return [
        Written(
            tenant.id,
            tenant.name,
            clock.now() - i * 3600.0,
            result=results[i % 3][0],
            reason=results[i % 3][1],
            method="sms" if i % 2 else "app_code",
        )
        for i in range(first, first + n)
    ]


def rolled_up(app: App) -> int:
    with app.storage.transaction() as tx:
        total = tx.conn.execute(select(func.coalesce(func.sum(tables.audit_rollups.c.events), 0)))
        return int(total.scalar_one())


def assert_exact(app: App, written: list[Written], tenant: Tenant) -> None:
    counts = app.usage.counts(OPERATOR, tenant.name, FIRST, LAST, BY)
    assert as_counter(counts, BY) == brute_force(written, tenant.id, FIRST, LAST, BY)


def test_a_round_writes_nothing_while_a_rebuild_holds_the_lease(
    app: App, clock: FakeClock, tenant: Tenant
) -> None:
    written = events(tenant, clock, 0, 30)
    write(app.storage, written)
    rebuilding = Lease(app.deps, LEASE, REBUILD_LEASE_SECONDS)
    assert rebuilding.take()
    job = RollupJob(app.deps, batch=10)
    done = job.round()
    assert not done.moved
    assert rolled_up(app) == 0
    assert_exact(app, written, tenant)  # the figures still count every event (the tail)
    rebuilding.release()
    assert job.run().counted == 30
    assert rolled_up(app) == 30


def test_a_second_rebuild_at_once_is_refused(app: App, clock: FakeClock, tenant: Tenant) -> None:
    write(app.storage, events(tenant, clock, 0, 5))
    other = Lease(app.deps, LEASE, REBUILD_LEASE_SECONDS)
    assert other.take()
    with pytest.raises(Conflict):
        RollupJob(app.deps).rebuild()
    assert rolled_up(app) == 0
    other.release()
    assert RollupJob(app.deps).rebuild().last_seq > 0
    assert rolled_up(app) == 5


def test_a_round_and_a_rebuild_started_at_once_never_count_twice(
    app: App, clock: FakeClock, tenant: Tenant
) -> None:
    written: list[Written] = []
    errors: list[BaseException] = []
    rounds = RollupJob(app.deps, batch=7)
    rebuilds = RollupJob(app.deps)
    for attempt in range(12):  # bounded: each attempt starts one race
        more = events(tenant, clock, len(written), 25)
        write(app.storage, more)
        written += more
        start = threading.Barrier(2)

        def rounding(start: threading.Barrier) -> None:
            try:
                start.wait(timeout=30)
                for _ in range(6):  # bounded: a few rounds during the rebuild
                    rounds.round()
            except BaseException as exc:  # reported below
                errors.append(exc)

        def rebuilding(start: threading.Barrier) -> None:
            try:
                start.wait(timeout=30)
                rebuilds.rebuild()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=rounding, args=(start,)),
            threading.Thread(target=rebuilding, args=(start,)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        assert not errors, f"attempt {attempt}: {errors!r}"
        assert rolled_up(app) <= len(written)  # a double count would show here first
        rounds.run(max_rounds=1000)
        assert rolled_up(app) == len(written)
        assert_exact(app, written, tenant)
