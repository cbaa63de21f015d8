"""The admin trail's table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from twostep.adapters.storage.tables import admin_events
from twostep.domain.admin_events import AdminEvent, AdminEventQuery


def _event(row: Any) -> AdminEvent:
    return AdminEvent(
        event_id=row.event_id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        result=row.result,
        interface=row.interface,
        server_name=row.server_name,
        tenant=row.tenant,
        actor_name=row.actor_name,
        role=row.role,
        source=row.source,
        target=row.target,
        changes=json.loads(row.changes) if row.changes else {},
        seq=row.seq,
    )


class SqlAdminEventRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, tenant_id: int | None, event: AdminEvent) -> None:
        self.conn.execute(
            insert(admin_events).values(
                event_id=event.event_id,
                tenant_id=tenant_id,
                tenant=event.tenant,
                at=event.at,
                actor=event.actor,
                actor_name=event.actor_name,
                role=event.role,
                source=event.source,
                interface=event.interface,
                action=event.action,
                target=event.target,
                result=event.result,
                changes=json.dumps(event.changes, sort_keys=True, default=str)
                if event.changes
                else None,
                server_name=event.server_name,
            )
        )

    def query(self, query: AdminEventQuery) -> Sequence[AdminEvent]:
        c = admin_events.c
        stmt = select(admin_events)
        if not query.every_tenant:
            stmt = stmt.where(c.tenant_id == query.tenant_id)
        if query.action is not None:
            if query.action.endswith("."):
                stmt = stmt.where(c.action.startswith(query.action, autoescape=True))
            else:
                stmt = stmt.where(c.action == query.action)
        if query.actor is not None:
            stmt = stmt.where(c.actor == query.actor)
        if query.target is not None:
            stmt = stmt.where(c.target == query.target)
        if query.since is not None:
            stmt = stmt.where(c.at >= query.since)
        if query.until is not None:
            stmt = stmt.where(c.at < query.until)
        if query.after_seq is not None:
            stmt = stmt.where(c.seq > query.after_seq)
        order = c.seq.desc() if query.newest_first else c.seq
        rows = self.conn.execute(stmt.order_by(order).limit(query.limit))
        return [_event(r) for r in rows]
