"""The property: for any stream of audit events across UTC day boundaries, written in any
batches, with the rollup job run at any points (and two rounds at once), the figures (the
rollups plus the events not rolled up yet) equal a brute-force count over the raw events,
exactly, at every step. On PostgreSQL a transaction may also hold its events open while
later ones are written and rolled up, then commit or roll back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, RootTransaction

from tests.support.fakes import FakeClock
from tests.support.usage import DAY, Written, as_counter, brute_force, forget_everything, write
from twostep.adapters.storage.repos.audit import SqlAuditRepo
from twostep.bootstrap import App
from twostep.domain.entities import Tenant
from twostep.domain.usage import Dimension
from twostep.services.admin import OPERATOR
from twostep.services.rollups import RollupJob

pytestmark = pytest.mark.usefixtures("backend")

BASE = dt.datetime(2027, 1, 10, tzinfo=dt.UTC).timestamp()  # a midnight
FIRST, LAST = dt.date(2027, 1, 9), dt.date(2027, 1, 14)
GROUPINGS: list[tuple[Dimension, ...]] = [
    ("day", "integration", "interface", "method", "result", "reason"),
    ("day", "result"),
    ("method",),
    (),
]
GAP_SECONDS = 600.0

# Milliseconds into a day, the edges of the day often.
moments = st.one_of(
    st.integers(0, 86_399_999), st.sampled_from([0, 1, 999, 86_399_000, 86_399_999])
)
event_fields = st.tuples(
    st.integers(0, 1),  # tenant
    st.integers(0, 3),  # day
    moments,
    st.sampled_from(
        [
            ("accept", None),
            ("reject", "invalid_code"),
            ("reject", "fraud_reported"),
            ("challenge", None),
        ]
    ),
    st.sampled_from([None, "sms", "app_code"]),
    st.sampled_from([None, "vpn", "web"]),
    st.sampled_from(["http", "radius"]),
)
batches = st.lists(event_fields, min_size=1, max_size=8)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("write"), batches),
        st.tuples(st.just("round")),
        st.tuples(st.just("race"), st.booleans()),
        st.tuples(st.just("expire")),
    ),
    min_size=1,
    max_size=14,
)
# On PostgreSQL: a transaction opened before step ``open_at`` (its events take their seqs
# then), committed or rolled back before step ``close_at`` (or at the end).
holds = st.one_of(
    st.none(), st.tuples(st.integers(0, 4), st.integers(1, 14), st.booleans(), batches)
)


@dataclass
class Held:
    """A transaction of another connection, holding its events uncommitted."""

    conn: Connection
    tx: RootTransaction
    events: list[Written] = field(default_factory=list)


def made(tenants: tuple[Tenant, Tenant], fields: Any) -> Written:
    tenant, day, ms, (result, reason), method, integration, interface = fields
    at = BASE + (day - 1) * DAY + ms / 1000
    return Written(
        tenants[tenant].id,
        tenants[tenant].name,
        at,
        result=result,
        reason=reason,
        method=method,
        integration=integration,
        interface=interface,
    )


def assert_exact(app: App, written: list[Written], tenants: tuple[Tenant, Tenant]) -> None:
    for tenant_id, name in [(None, None), *((t.id, t.name) for t in tenants)]:
        for by in GROUPINGS:
            counts = app.usage.counts(OPERATOR, name, FIRST, LAST, by)
            expected = brute_force(written, tenant_id, FIRST, LAST, by)
            assert as_counter(counts, by) == expected, (name, by)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps, batch=st.integers(1, 6), hold=holds)
def test_the_figures_equal_a_brute_force_count_at_every_step(
    app: App,
    clock: FakeClock,
    backend: str,
    steps: list[tuple[Any, ...]],
    batch: int,
    hold: tuple[int, int, bool, list[Any]] | None,
) -> None:
    forget_everything(app.storage)
    tenants = (app.admin.ensure_default_tenant(), _acme(app))
    job_a = RollupJob(app.deps, batch=batch, gap_seconds=GAP_SECONDS)
    job_b = RollupJob(app.deps, batch=batch, gap_seconds=GAP_SECONDS)
    written: list[Written] = []
    held: Held | None = None
    # SQLite has one writer at a time: a transaction held open would block the others.
    open_at, close_at, commit, held_batch = (
        hold if hold is not None and backend == "postgres" else (-1, -1, False, [])
    )
    try:
        for index, step in enumerate([*steps, ("end",)]):
            if index == open_at:
                conn = app.storage.engine.connect()
                held = Held(conn, conn.begin())
                for fields in held_batch:
                    one = made(tenants, fields)
                    SqlAuditRepo(conn).add(one.tenant_id, one.event())
                    held.events.append(one)
            if held is not None and (index >= close_at or step[0] == "end"):
                if commit:
                    held.tx.commit()
                    written += held.events
                else:
                    held.tx.rollback()
                held.conn.close()
                held = None
            kind = step[0]
            if kind == "write":
                batch_events = [made(tenants, f) for f in step[1]]
                write(app.storage, batch_events)
                written += batch_events
            elif kind == "round":
                job_a.round()
            elif kind == "race":  # two nodes read the same position, then both write
                plan_a, plan_b = job_a.prepare(), job_b.prepare()
                if step[1]:
                    job_a.apply(plan_a)
                    job_b.apply(plan_b)
                else:
                    job_b.apply(plan_b)
                    job_a.apply(plan_a)
            elif kind == "expire" and held is None:
                # Gaps are waited for GAP_SECONDS: a transaction open longer than that
                # would be lost to the rollups (services/rollups.py), so none is open.
                clock.advance(GAP_SECONDS + 1)
            assert_exact(app, written, tenants)
        job_a.run(max_rounds=1000)
        assert_exact(app, written, tenants)
    finally:
        if held is not None:
            held.tx.rollback()
            held.conn.close()


def _acme(app: App) -> Tenant:
    with app.storage.transaction() as tx:
        found = tx.tenants.by_name("acme")
    return found if found is not None else app.admin.create_tenant(OPERATOR, "acme")
