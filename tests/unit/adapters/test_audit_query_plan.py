"""One user's audit events over a time range: the query walks the user's index
``(tenant_id, user_name, seq)`` in order and checks the time on the way, instead of reading
every event of the range by ``(tenant_id, at)`` and sorting them all (a month of a busy
tenant for one page of one user: 150 ms at 1,000,000 events, bench/portal_pages.py)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event

from twostep.adapters.storage.repos.audit import SqlAuditRepo
from twostep.bootstrap import App
from twostep.domain.audit import AuditEvent, AuditQuery

START = 1_800_000_000.0


def _event(user: str, at: float) -> AuditEvent:
    return AuditEvent(
        event_id=str(uuid.uuid4()),
        at=at,
        tenant="default",
        user=user,
        method="app_code",
        result="accept",
        reason=None,
        integration="vpn",
        server_name="node-a",
        server_ip=None,
        interface="http",
    )


def test_one_users_events_in_a_time_range(app: App) -> None:
    tenant = app.admin.ensure_default_tenant().id
    with app.storage.transaction(write=True) as tx:
        for minute, user in enumerate(["alice", "bob", "alice", "bob", "alice", "alice"]):
            SqlAuditRepo(tx.conn).add(tenant, _event(user, START + 60 * minute))
    query = AuditQuery(tenant_id=tenant, user="alice", since=START + 60, until=START + 300)
    sent: list[tuple[str, Any]] = []
    with app.storage.transaction() as tx:

        def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            sent.append((statement, parameters))

        event.listen(tx.conn, "before_cursor_execute", seen)
        found = SqlAuditRepo(tx.conn).query(query)
        event.remove(tx.conn, "before_cursor_execute", seen)
        assert [(e.user, e.at - START) for e in found] == [("alice", 120.0), ("alice", 240.0)]
        if tx.conn.dialect.name == "sqlite":
            statement, parameters = sent[-1]
            raw = tx.conn.connection.driver_connection
            assert raw is not None
            plan = " ".join(
                str(r) for r in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            )
            assert "tenant_id_user_name_seq" in plan, plan
            assert "TEMP B-TREE" not in plan, plan  # no sort: the index is in order
