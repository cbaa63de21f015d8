"""The usage rollup job: each audit event is counted once, by one round, whatever runs at
once; a late commit on PostgreSQL (a seq taken before the position, committed after) is
counted when it appears, a rolled-back one given up after a while; the figures (rollups
plus the events not rolled up yet) equal a brute-force count at every moment; a rebuild
recounts the same numbers."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from tests.support.fakes import FakeClock
from tests.support.usage import DAY, Written, as_counter, brute_force, write
from twostep.adapters.storage import tables
from twostep.adapters.storage.repos.audit import SqlAuditRepo
from twostep.bootstrap import App
from twostep.domain.entities import Tenant
from twostep.domain.usage import Dimension
from twostep.services.admin import OPERATOR
from twostep.services.rollups import RollupJob, RollupTimer

BY: tuple[Dimension, ...] = ("day", "integration", "interface", "method", "result", "reason")
FIRST, LAST = dt.date(2026, 10, 1), dt.date(2027, 2, 28)  # around FakeClock: 2027-01-15


@pytest.fixture
def tenants(app: App) -> tuple[Tenant, Tenant]:
    acme = app.admin.create_tenant(OPERATOR, "acme")
    default = app.admin.ensure_default_tenant()
    return default, acme


def events(tenants: tuple[Tenant, Tenant], clock: FakeClock, n: int) -> list[Written]:
    """``n`` events, alternating tenants and results, an hour apart across days."""
    results = [("accept", None), ("reject", "invalid_code"), ("challenge", None)]
    found = []
    for i in range(n):
        tenant = tenants[i % 2]
        result, reason = results[i % 3]
        found.append(
            Written(
                tenant.id,
                tenant.name,
                clock.now() - i * 3600.0,
                result=result,
                reason=reason,
                method=None if i % 5 == 0 else "sms",
                integration=None if i % 7 == 0 else "vpn",
            )
        )
    return found


def rolled_up(app: App) -> int:
    with app.storage.transaction() as tx:
        total = tx.conn.execute(select(func.coalesce(func.sum(tables.audit_rollups.c.events), 0)))
        return int(total.scalar_one())


def assert_exact(app: App, written: list[Written], tenants: tuple[Tenant, Tenant]) -> None:
    for tenant_id, name in [(None, None), *((t.id, t.name) for t in tenants)]:
        counts = app.usage.counts(OPERATOR, name, FIRST, LAST, BY)
        assert as_counter(counts, BY) == brute_force(written, tenant_id, FIRST, LAST, BY)


pytestmark = pytest.mark.usefixtures("backend")


def test_a_round_counts_every_event_once_and_the_figures_stay_exact(
    app: App, clock: FakeClock, tenants: tuple[Tenant, Tenant]
) -> None:
    written = events(tenants, clock, 60)
    write(app.storage, written[:40])
    assert_exact(app, written[:40], tenants)  # nothing rolled up: all from the tail

    job = RollupJob(app.deps, batch=15)
    first = job.round()
    assert (first.counted, first.full, rolled_up(app)) == (15, True, 15)
    assert_exact(app, written[:40], tenants)  # half rollups, half tail

    write(app.storage, written[40:])
    report = job.run()
    assert (report.counted, report.caught_up, rolled_up(app)) == (45, True, 60)
    assert_exact(app, written, tenants)
    assert job.round().counted == 0  # nothing new: nothing written


def test_two_rounds_that_read_the_same_position_count_once(
    app: App, clock: FakeClock, tenants: tuple[Tenant, Tenant]
) -> None:
    written = events(tenants, clock, 30)
    node_a, node_b = RollupJob(app.deps), RollupJob(app.deps)
    for batch in (written[:10], written[10:]):  # the first round ever, then a later one
        write(app.storage, batch)
        plan_a, plan_b = node_a.prepare(), node_b.prepare()
        assert plan_a.events == plan_b.events == len(batch)
        assert node_b.apply(plan_b).moved
        assert not node_a.apply(plan_a).moved  # its position moved: it writes nothing
    assert rolled_up(app) == 30
    assert_exact(app, written, tenants)


def test_rounds_racing_in_threads_count_each_event_once(
    app: App, clock: FakeClock, tenants: tuple[Tenant, Tenant]
) -> None:
    written = events(tenants, clock, 400)
    write(app.storage, written)
    jobs = [RollupJob(app.deps, batch=7) for _ in range(4)]
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def node(job: RollupJob) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(200):  # bounded; each round moves the position or loses a race
                done = job.round()
                if done.moved and not done.full:
                    return
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=node, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    jobs[0].run(max_rounds=1000)
    assert rolled_up(app) == 400
    assert_exact(app, written, tenants)


def test_a_rebuild_recounts_the_same_numbers(
    app: App, clock: FakeClock, tenants: tuple[Tenant, Tenant]
) -> None:
    written = events(tenants, clock, 50)
    write(app.storage, written[:30])
    job = RollupJob(app.deps, batch=10)
    job.run()
    with app.storage.transaction(write=True) as tx:  # a rollup gone wrong (a bad restore)
        tx.conn.execute(tables.audit_rollups.update().values(events=999))
    write(app.storage, written[30:])
    state = job.rebuild()
    assert rolled_up(app) == 50
    assert_exact(app, written, tenants)
    assert job.round().counted == 0  # the position is the rebuild's
    with app.storage.transaction() as tx:
        assert (
            state.last_seq == tx.conn.execute(select(func.max(tables.audit_events.c.seq))).scalar()
        )


def test_the_timer_runs_the_job_until_stopped(
    app: App, clock: FakeClock, tenants: tuple[Tenant, Tenant]
) -> None:
    written = events(tenants, clock, 20)
    write(app.storage, written)
    timer = RollupTimer(RollupJob(app.deps), every=0.01)
    timer.start()
    try:
        for _ in range(3000):  # bounded: at most about 30 s on a loaded machine
            if rolled_up(app) == 20:
                break
            threading.Event().wait(0.01)
    finally:
        timer.stop()
    assert rolled_up(app) == 20
    assert_exact(app, written, tenants)


def test_an_interval_of_zero_runs_nothing(
    app: App, clock: FakeClock, tenants: tuple[Tenant, Tenant]
) -> None:
    write(app.storage, events(tenants, clock, 5))
    timer = RollupTimer(RollupJob(app.deps), every=0)
    timer.start()
    timer.stop()
    assert timer._thread is None
    assert rolled_up(app) == 0


@pytest.fixture
def held(app: App) -> Iterator[list[object]]:
    """Transactions a test opens on their own connections (closed at the end)."""
    opened: list[object] = []
    yield opened
    for conn in opened:
        conn.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_late_commit_is_counted_when_it_appears_and_a_rollback_is_given_up(
    app: App, clock: FakeClock, tenants: tuple[Tenant, Tenant], held: list[object]
) -> None:
    # PostgreSQL only: on SQLite one writer inserts at a time, so seqs appear in order.
    written = events(tenants, clock, 12)
    late_conn, lost_conn = app.storage.engine.connect(), app.storage.engine.connect()
    held += [late_conn, lost_conn]
    late_tx, lost_tx = late_conn.begin(), lost_conn.begin()
    SqlAuditRepo(late_conn).add(written[0].tenant_id, written[0].event())  # takes a seq...
    SqlAuditRepo(lost_conn).add(written[1].tenant_id, written[1].event())
    write(app.storage, written[2:])  # ...that later events pass while it stays open
    job = RollupJob(app.deps, gap_seconds=600)
    first = job.round()
    assert (first.counted, first.new_gaps) == (10, 2)
    assert_exact(app, written[2:], tenants)

    late_tx.commit()  # counted at once through its gap, then by the next round
    assert_exact(app, [written[0], *written[2:]], tenants)
    second = job.round()
    assert (second.counted, second.late, second.dropped_gaps) == (0, 1, 0)
    assert rolled_up(app) == 11
    assert_exact(app, [written[0], *written[2:]], tenants)

    lost_tx.rollback()
    clock.advance(601)
    third = job.round()
    assert (third.late, third.dropped_gaps) == (0, 1)
    with app.storage.transaction() as tx:
        assert tx.usage.gaps(10) == []
    assert_exact(app, [written[0], *written[2:]], tenants)


def test_days_are_utc_calendar_days(app: App, tenants: tuple[Tenant, Tenant]) -> None:
    midnight = dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp()
    default = tenants[0]
    written = [
        Written(default.id, default.name, midnight - 0.001),
        Written(default.id, default.name, midnight),
        Written(default.id, default.name, midnight + DAY - 0.001),
    ]
    write(app.storage, written)
    RollupJob(app.deps).run()
    rows = app.usage.by_day(OPERATOR, "default", dt.date(2026, 2, 28), dt.date(2026, 3, 1))
    assert [(c.day, c.events) for c in rows] == [
        (dt.date(2026, 2, 28), 1),
        (dt.date(2026, 3, 1), 2),
    ]
