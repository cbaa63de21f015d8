from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, insert, select

from twostep.adapters.storage.prepared import Prepared
from twostep.adapters.storage.tables import audit_events
from twostep.domain.audit import AuditEvent, AuditQuery

log = logging.getLogger("twostep.audit")


def _event(row: Any) -> AuditEvent:
    return AuditEvent(
        event_id=row.event_id,
        at=row.at,
        tenant=row.tenant,
        user=row.user_name,
        method=row.method,
        result=row.result,
        reason=row.reason,
        integration=row.integration,
        server_name=row.server_name,
        server_ip=row.server_ip,
        client_ip=row.client_ip,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        phone=row.phone,
        device=row.device,
        interface=row.interface,
        detail=row.detail,
        request_id=row.request_id,
        seq=row.seq,
    )


_COLUMNS = [
    ("user_name" if f.name == "user" else f.name, f.name)
    for f in fields(AuditEvent)
    if f.name != "seq"
]
_INSERT = Prepared(insert(audit_events), [c for c, _ in _COLUMNS] + ["tenant_id"])


class SqlAuditRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, tenant_id: int, event: AuditEvent) -> None:
        # Field by field: dataclasses.asdict deep-copies, and this runs inside the write lock.
        values = {column: getattr(event, field) for column, field in _COLUMNS}
        values["tenant_id"] = tenant_id
        _INSERT.rowcount(self.conn, values)
        if log.isEnabledFor(logging.DEBUG):  # the event, never a secret (its request's id too)
            log.debug(
                "audit: %s %s/%s %s %s%s via %s (%s)%s",
                event.event_id,
                event.tenant,
                event.user,
                event.method or "-",
                event.result,
                f" {event.reason}" if event.reason else "",
                event.interface,
                event.integration or "-",
                f": {event.detail}" if event.detail else "",
            )

    def query(self, query: AuditQuery) -> Sequence[AuditEvent]:
        c = audit_events.c
        stmt = select(audit_events).where(c.tenant_id == query.tenant_id)
        if query.user is not None:
            stmt = stmt.where(c.user_name == query.user)
        if query.result is not None:
            stmt = stmt.where(c.result == query.result)
        if query.method is not None:
            stmt = stmt.where(c.method == query.method)
        if query.request_id is not None:
            stmt = stmt.where(c.request_id == query.request_id)
        # One user's (or one request's) events: walk their index (tenant_id, user_name, seq)
        # in order and check the time on the way. Left to itself the planner reads every
        # event of the time range by (tenant_id, at) and sorts them all (a month: 1e6 rows).
        at = c.at + 0 if query.user is not None or query.request_id is not None else c.at
        if query.since is not None:
            stmt = stmt.where(at >= query.since)
        if query.until is not None:
            stmt = stmt.where(at < query.until)
        if query.after_seq is not None:
            stmt = stmt.where(c.seq > query.after_seq)
        order = c.seq.desc() if query.newest_first else c.seq
        rows = self.conn.execute(stmt.order_by(order).limit(query.limit))
        return [_event(r) for r in rows]
