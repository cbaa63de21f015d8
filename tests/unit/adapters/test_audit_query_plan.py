"""Audit queries over a time range: the range becomes a range of seq (found in the index
``(tenant_id, at)``), and the query walks ``(tenant_id, seq)`` or a user's
``(tenant_id, user_name, seq)`` in order, stopping after its page, instead of reading every
event of the range by time and sorting them all (a month of a busy tenant for one page:
150 to 250 ms at 1,000,000 events, bench/portal_pages.py). The answers are those of a plain
filter, also for events stored out of time order (up to ``OUT_OF_ORDER`` seconds)."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from sqlalchemy import event

from twostep.adapters.storage.repos.audit import OUT_OF_ORDER, SqlAuditRepo
from twostep.bootstrap import App
from twostep.domain.audit import AuditEvent, AuditQuery

START = 1_800_000_000.0
USERS = ("alice", "bob", "carol")
RESULTS = ("accept", "reject", "challenge")


def _event(user: str, at: float, result: str) -> AuditEvent:
    return AuditEvent(
        event_id=str(uuid.uuid4()),
        at=at,
        tenant="default",
        user=user,
        method="app_code",
        result=result,
        reason=None,
        integration="vpn",
        server_name="node-a",
        server_ip=None,
        interface="http",
    )


@pytest.fixture
def stored(app: App) -> tuple[int, list[AuditEvent]]:
    """600 events a minute apart, their times off by up to half of OUT_OF_ORDER either
    way: an event may be stored up to OUT_OF_ORDER seconds (less a minute) out of order."""
    rng = random.Random(6)
    tenant = app.admin.ensure_default_tenant().id
    events = [
        _event(
            rng.choice(USERS),
            START + 60 * i + rng.uniform(-0.49, 0.49) * OUT_OF_ORDER,
            rng.choice(RESULTS),
        )
        for i in range(600)
    ]
    with app.storage.transaction(write=True) as tx:
        repo = SqlAuditRepo(tx.conn)
        for one in events:
            repo.add(tenant, one)
    return tenant, events  # in the order stored


def _expected(events: list[AuditEvent], query: AuditQuery) -> list[str]:
    found = [
        e
        for e in events
        if (query.user is None or e.user == query.user)
        and (query.result is None or e.result == query.result)
        and (query.since is None or e.at >= query.since)
        and (query.until is None or e.at < query.until)
    ]
    found = found[::-1] if query.newest_first else found
    return [e.event_id for e in found[: query.limit]]


def test_time_ranges_answer_as_a_plain_filter(
    app: App, stored: tuple[int, list[AuditEvent]]
) -> None:
    tenant, events = stored
    rng = random.Random(7)
    for _ in range(300):
        since = START + rng.uniform(-600, 37_000) if rng.random() < 0.8 else None
        until = START + rng.uniform(-600, 37_000) if rng.random() < 0.6 else None
        query = AuditQuery(
            tenant_id=tenant,
            user=rng.choice((None, *USERS)),
            result=rng.choice((None, *RESULTS)),
            since=since,
            until=until,
            limit=rng.choice((1, 5, 50, 1000)),
            newest_first=rng.random() < 0.3,
        )
        with app.storage.transaction() as tx:
            found = [e.event_id for e in SqlAuditRepo(tx.conn).query(query)]
        assert found == _expected(events, query), query


@pytest.mark.parametrize("user", [None, "alice"])
def test_a_time_range_walks_an_index_in_order(
    app: App, stored: tuple[int, list[AuditEvent]], user: str | None
) -> None:
    tenant, _events = stored
    query = AuditQuery(
        tenant_id=tenant, user=user, result="reject", since=START + 3600, until=START + 7200
    )
    sent: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    with app.storage.transaction() as tx:
        if tx.conn.dialect.name != "sqlite":
            pytest.skip("the plan is SQLite's; PostgreSQL's depends on its statistics")
        event.listen(tx.conn, "before_cursor_execute", seen)
        SqlAuditRepo(tx.conn).query(query)
        event.remove(tx.conn, "before_cursor_execute", seen)
        statement, parameters = sent[-1]
        raw = tx.conn.connection.driver_connection
        assert raw is not None
        plan = " ".join(str(r) for r in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters))
    index = "tenant_id_seq" if user is None else "tenant_id_user_name_seq"
    assert f"audit_events_{index} (" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort: the index is in order
