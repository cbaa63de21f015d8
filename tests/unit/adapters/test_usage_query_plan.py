"""The reports page's usage figures (grouped by day, result, method and reason): the
rollups' part is grouped on its own and streams through a covering index in that order, a
tenant's or every tenant's, instead of every rollup row (a cell per integration and
interface too) being sorted with the events not rolled up yet (a month of 1,000,000
events: most of the page's 50 ms, bench/portal_pages.py). The answers are the brute-force
count's whatever the plan (tests/unit/services/test_rollups_property.py); here, the plan."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import event

from tests.support.usage import DAY, Written, as_counter, brute_force, write
from twostep.adapters.storage.repos.usage import SqlUsageRepo
from twostep.bootstrap import App
from twostep.domain.usage import Dimension, day_of
from twostep.services.admin import OPERATOR
from twostep.services.rollups import RollupJob

BY: tuple[Dimension, ...] = ("day", "result", "method", "reason")
START = 1_800_000_000.0 - 1_800_000_000.0 % DAY


@pytest.fixture
def written(app: App) -> list[Written]:
    """Two tenants' events over three days, through two integrations and two interfaces
    (several rollup cells per group), most rolled up and a tail not yet."""
    ids = {"default": app.admin.ensure_default_tenant().id}
    ids["acme"] = app.admin.create_tenant(OPERATOR, "acme").id
    shapes = [
        ("accept", "app_code", None),
        ("reject", "sms", "invalid_code"),
        ("reject", None, "user_not_found"),
        ("challenge", "app_push", None),
    ]
    events = [
        Written(ids[tenant], tenant, START + day * DAY + i * 60, result, method, reason, app_, via)
        for tenant in ids
        for day in range(3)
        for i, (result, method, reason) in enumerate(shapes)
        for app_ in ("vpn", "web")
        for via in ("http", "radius")
    ]
    write(app.storage, events[:-10])
    while not RollupJob(app.deps).run(max_rounds=100).caught_up:
        pass
    write(app.storage, events[-10:])  # not rolled up yet
    return events


def _plan(app: App, tenant_id: int | None) -> tuple[str, list[tuple[int, int, str]]]:
    sent: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    with app.storage.transaction() as tx:
        if tx.conn.dialect.name != "sqlite":
            pytest.skip("the plan is SQLite's; PostgreSQL's depends on its statistics")
        event.listen(tx.conn, "before_cursor_execute", seen)
        SqlUsageRepo(tx.conn).counts(tenant_id, day_of(START), day_of(START) + 2, BY)
        event.remove(tx.conn, "before_cursor_execute", seen)
        statement, parameters = sent[-1]
        raw = tx.conn.connection.driver_connection
        assert raw is not None
        rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
    return " ".join(statement.split()), [(int(r[0]), int(r[1]), str(r[3])) for r in rows]


@pytest.mark.parametrize("tenant", ["default", None])
def test_the_rollups_part_streams_through_a_covering_index_in_the_pages_order(
    app: App, written: list[Written], tenant: str | None
) -> None:
    tenant_id = None if tenant is None else written[0].tenant_id
    statement, plan = _plan(app, tenant_id)
    # The rollups' part is grouped on its own, before the events not rolled up yet join it.
    grouped = ", ".join(f"audit_rollups.{d}" for d in BY)
    assert re.search(f"FROM audit_rollups WHERE [^()]* GROUP BY {grouped} UNION ALL", statement)
    [(_, parent, read)] = [p for p in plan if "audit_rollups" in p[2]]
    index = "tenant_id_day_result_method_reason_events" if tenant else "day_result_method_reason"
    assert f"COVERING INDEX ix_audit_rollups_{index}" in read, plan
    sorts = [p for p in plan if "TEMP B-TREE" in p[2] and p[1] == parent]
    assert sorts == [], plan  # the rollups' groups come in the index's order, unsorted


@pytest.mark.usefixtures("backend")  # on both engines
@pytest.mark.parametrize("tenant", ["default", None])
def test_the_figures_are_the_events_counted(
    app: App, written: list[Written], tenant: str | None
) -> None:
    tenant_id = None if tenant is None else written[0].tenant_id
    first = dt.datetime.fromtimestamp(START, dt.UTC).date()
    last = first + dt.timedelta(days=2)
    with app.storage.transaction() as tx:
        found = SqlUsageRepo(tx.conn).counts(tenant_id, day_of(START), day_of(START) + 2, BY)
    assert as_counter(found, BY) == brute_force(written, tenant_id, first, last, BY)
