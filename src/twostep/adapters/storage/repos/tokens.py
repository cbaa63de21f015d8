"""The tenant's pool of hardware tokens: imported in bulk, handed to users and back.

A pool holds methods of one kind (the service names it: ``oath_token``), with or without
a user; assignment is a conditional update, so two admins cannot both win a token.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert, select, update

from twostep.adapters.storage.repos.methods import PUBLIC, method_from_row, new_method_row
from twostep.adapters.storage.tables import methods
from twostep.domain.entities import Method, MethodStatus
from twostep.domain.ports.methods import NewMethod


class SqlTokenPoolRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_many(self, new: Sequence[NewMethod], now: float) -> None:
        if new:
            self.conn.execute(insert(methods), [new_method_row(m, now) for m in new])

    def by_serial(self, tenant_id: int, kind: str) -> dict[str, Method]:
        rows = self.conn.execute(
            select(*PUBLIC).where(methods.c.tenant_id == tenant_id, methods.c.kind == kind)
        )
        return {row.serial: method_from_row(row) for row in rows}

    def find(self, tenant_id: int, kind: str, serial: str) -> Method | None:
        row = self.conn.execute(
            select(*PUBLIC).where(
                methods.c.tenant_id == tenant_id,
                methods.c.kind == kind,
                methods.c.serial == serial,
            )
        ).first()
        return None if row is None else method_from_row(row)

    def page(
        self,
        tenant_id: int,
        kind: str,
        *,
        assigned: bool | None = None,
        manufacturer: str | None = None,
        serial_prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Sequence[Method]:
        c = methods.c
        query = select(*PUBLIC).where(c.tenant_id == tenant_id, c.kind == kind)
        if assigned is not None:
            query = query.where(c.user_id.is_not(None) if assigned else c.user_id.is_(None))
        if manufacturer is not None:
            query = query.where(c.manufacturer == manufacturer)
        if serial_prefix:
            query = query.where(c.serial.startswith(serial_prefix, autoescape=True))
        if after is not None:
            query = query.where(c.serial > after)
        rows = self.conn.execute(query.order_by(c.serial).limit(limit))
        return [method_from_row(r) for r in rows]

    def assign(self, method_id: str, user_id: int, now: float) -> bool:
        result = self.conn.execute(
            update(methods)
            .where(
                methods.c.id == method_id,
                methods.c.user_id.is_(None),
                methods.c.status == MethodStatus.UNASSIGNED.value,
            )
            .values(user_id=user_id, status=MethodStatus.ACTIVE.value, confirmed_at=now)
        )
        return result.rowcount == 1

    def unassign(self, method_id: str) -> bool:
        result = self.conn.execute(
            update(methods)
            .where(methods.c.id == method_id, methods.c.user_id.is_not(None))
            .values(user_id=None, status=MethodStatus.UNASSIGNED.value, label=None)
        )
        return result.rowcount == 1

    def set_status(self, method_id: str, status: MethodStatus) -> None:
        self.conn.execute(
            update(methods).where(methods.c.id == method_id).values(status=status.value)
        )

    def replace(self, method_id: str, method: NewMethod) -> bool:
        values = new_method_row(method, 0.0)
        for kept in ("id", "user_id", "tenant_id", "created_at", "confirmed_at", "status"):
            values.pop(kept)
        result = self.conn.execute(
            update(methods)
            .where(methods.c.id == method_id, methods.c.user_id.is_(None))
            .values(**values)
        )
        return result.rowcount == 1
