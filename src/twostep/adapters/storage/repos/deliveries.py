"""Sliding-window counts of texts and calls, for the abuse limits."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, func, insert, select

from twostep.adapters.storage.prepared import Prepared
from twostep.adapters.storage.tables import deliveries, tenants, users

d = deliveries.c


def _counts(push: bool) -> tuple[Prepared, Prepared]:
    # Push requests and texts/calls have limits of their own: neither uses up the other.
    same = d.channel == "push" if push else d.channel != "push"
    recent = d.at > bindparam("b_since")
    return (
        Prepared(select(func.count()).where(d.user_id == bindparam("b_user"), recent, same)),
        Prepared(select(func.count()).where(d.tenant_id == bindparam("b_tenant"), recent, same)),
    )


_COUNTS = {True: _counts(True), False: _counts(False)}
_INSERT = Prepared(insert(deliveries), ["tenant_id", "user_id", "channel", "at"])


class SqlDeliveryRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def reserve(
        self,
        tenant_id: int,
        user_id: int,
        channel: str,
        now: float,
        window: int,
        user_limit: int,
        tenant_limit: int | None,
    ) -> str | None:
        if self.conn.dialect.name != "sqlite":
            # Count-then-insert must not interleave with another node's: hold the row whose
            # count is checked until commit: the tenant's, or only the user's when there is
            # no tenant-wide limit (push). (SQLite's writes are already one at a time.)
            if tenant_limit is None:
                held = select(users.c.id).where(users.c.id == user_id)
            else:
                held = select(tenants.c.id).where(tenants.c.id == tenant_id)
            self.conn.execute(held.with_for_update())
        since = now - window
        per_user, tenant = _COUNTS[channel == "push"]
        mine = per_user.rows(self.conn, {"b_user": user_id, "b_since": since})[0][0]
        if mine >= user_limit:
            return "user"
        if tenant_limit is not None:
            theirs = tenant.rows(self.conn, {"b_tenant": tenant_id, "b_since": since})[0][0]
            if theirs >= tenant_limit:
                return "tenant"
        values = {"tenant_id": tenant_id, "user_id": user_id, "channel": channel, "at": now}
        _INSERT.rowcount(self.conn, values)
        if mine == 0:  # now and then, forget what no window can reach any more
            self.conn.execute(
                delete(deliveries).where(d.tenant_id == tenant_id, d.at < now - 7 * 86400)
            )
        return None

    def release(self, user_id: int, at: float) -> None:
        first = select(d.id).where(d.user_id == user_id, d.at == at).limit(1).scalar_subquery()
        self.conn.execute(delete(deliveries).where(d.id == first))
