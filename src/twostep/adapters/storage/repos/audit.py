from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import ColumnElement, Connection, ScalarSelect, func, insert, select

from twostep.adapters.storage.prepared import Prepared
from twostep.adapters.storage.tables import audit_events
from twostep.domain.audit import AuditEvent, AuditQuery

log = logging.getLogger("twostep.audit")

OUT_OF_ORDER = 300.0  # seconds an event's time may run ahead of one stored after it
_MAX_SEQ = 2**63 - 1


def _seq_of(tenant_id: int, when: ColumnElement[bool], order: Any) -> ScalarSelect[Any]:
    """The seq of the tenant's first event by ``order`` (of time) that ``when`` holds for:
    one step down the index (tenant_id, at)."""
    c = audit_events.c
    found = select(c.seq).where(c.tenant_id == tenant_id, when).order_by(order).limit(1)
    return found.scalar_subquery()


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
        if query.reason is not None:
            stmt = stmt.where(c.reason == query.reason)
        if query.integration is not None:
            stmt = stmt.where(c.integration == query.integration)
        if query.interface is not None:
            stmt = stmt.where(c.interface == query.interface)
        # A time range becomes a range of seq, found in the index (tenant_id, at), and the
        # query walks (tenant_id, seq) (or a user's (tenant_id, user_name, seq)) in order,
        # checking the time on the way: it stops after ``limit`` rows. Left to itself the
        # planner reads every event of the range by time and sorts them all (a month of a
        # busy tenant: 850,000 rows for one page). The bounds are exact as long as no event's
        # time runs more than ``OUT_OF_ORDER`` seconds ahead of an event stored after it.
        at = c.at + 0  # "+ 0": the time is checked, not used to pick the index
        if query.since is not None:
            stmt = stmt.where(at >= query.since)
            before = _seq_of(query.tenant_id, c.at < query.since - OUT_OF_ORDER, c.at.desc())
            stmt = stmt.where(c.seq >= func.coalesce(before, 0))
        if query.until is not None:
            stmt = stmt.where(at < query.until)
            after = _seq_of(query.tenant_id, c.at >= query.until + OUT_OF_ORDER, c.at)
            stmt = stmt.where(c.seq <= func.coalesce(after, _MAX_SEQ))
        if query.after_seq is not None:
            stmt = stmt.where(c.seq > query.after_seq)
        order = c.seq.desc() if query.newest_first else c.seq
        rows = self.conn.execute(stmt.order_by(order).limit(query.limit))
        return [_event(r) for r in rows]
