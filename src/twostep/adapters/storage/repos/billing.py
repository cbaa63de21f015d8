"""Billing's reads and writes: per-user billing's history of user states, the raw audit
events of a window's partial days, and the frozen statements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from twostep.adapters.storage.tables import (
    audit_events,
    billing_statements,
    billing_user_states,
    license_assignments,
    users,
)
from twostep.domain.billing import APP_PASSWORD
from twostep.domain.ports.billing import UserState
from twostep.domain.usage import SECONDS_PER_DAY

s = billing_user_states.c
e = audit_events.c


def _day(dialect: str) -> ColumnElement[Any]:
    """``at`` as a UTC day number exactly as the rollups compute it (repos/usage.py)."""
    quotient = e.at / SECONDS_PER_DAY
    if dialect == "postgresql":
        return cast(func.floor(quotient), Integer)
    return cast(quotient, Integer)


class SqlBillingRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    # -- per-user billing's history ----------------------------------------------------

    def record_users(self, user_ids: Sequence[int], now: float) -> None:
        """Each user's state from ``now`` on, as the users table and the licenses say."""
        if not user_ids:
            return
        licensed = exists().where(license_assignments.c.user_id == users.c.id)
        source = select(
            users.c.tenant_id, users.c.id, users.c.name, literal(now), users.c.mfa, licensed
        ).where(users.c.id.in_(list(user_ids)))
        self.conn.execute(
            insert(billing_user_states).from_select(
                ["tenant_id", "user_id", "user_name", "at", "mfa", "licensed"], source
            )
        )

    def record_gone(self, tenant_id: int, user_id: int, user_name: str, now: float) -> None:
        """The user is deleted from ``now`` on: never billable again."""
        self.conn.execute(
            insert(billing_user_states).values(
                tenant_id=tenant_id,
                user_id=user_id,
                user_name=user_name,
                at=now,
                mfa="",
                licensed=false(),
            )
        )

    def user_states(self, tenant_id: int, before: float) -> Sequence[UserState]:
        """Every recorded state of the tenant's users that began before ``before``, each
        with when the next one began (None: none before ``before``)."""
        following = (
            func.lead(s.at).over(partition_by=s.user_id, order_by=(s.at, s.seq)).label("until")
        )
        rows = self.conn.execute(
            select(s.user_id, s.user_name, s.at, s.mfa, s.licensed, following).where(
                s.tenant_id == tenant_id, s.at < before
            )
        )
        return [
            UserState(
                user_id=int(r.user_id),
                user_name=r.user_name,
                at=r.at,
                until=r.until,
                mfa=r.mfa,
                licensed=bool(r.licensed),
            )
            for r in rows
        ]

    # -- per-authentication: a window's partial days, from the raw events --------------

    def verifications(self, tenant_id: int, day: int, start: float, end: float) -> dict[str, int]:
        """Completed verifications by method among the events of UTC ``day`` (as the
        rollups count days) with ``start <= at < end``: through the (tenant_id, at) index."""
        day_of = _day(self.dialect)
        # The index's range is the day's (a second wider each side: ``day_of`` decides at
        # the edges), not the window's: the last cut day of a month otherwise walked every
        # event of the month (1.5 million of 10 million in bench/reports.py, 0.1-1 s).
        low = max(start, day * SECONDS_PER_DAY - 1.0)
        high = min(end, (day + 1) * SECONDS_PER_DAY + 1.0)
        rows = self.conn.execute(
            select(e.method, func.count().label("n"))
            .where(
                e.tenant_id == tenant_id,
                e.at >= low,
                e.at < high,
                day_of == day,
                e.result == "accept",
                e.reason.is_(None),
                e.method.is_not(None),
                e.method != "",
                e.method != APP_PASSWORD,
            )
            .group_by(e.method)
        )
        return {r.method: int(r.n) for r in rows}

    # -- frozen statements -------------------------------------------------------------

    def frozen(self, provider_id: str, month: str) -> str | None:
        return self.conn.execute(
            select(billing_statements.c.body).where(
                billing_statements.c.provider_id == provider_id,
                billing_statements.c.month == month,
            )
        ).scalar()

    def freeze(self, provider_id: str, month: str, body: str, now: float) -> str:
        """Store the statement unless one is stored already; the stored one is answered
        (two nodes freezing at once keep the first)."""
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        self.conn.execute(
            dialect.insert(billing_statements)
            .values(provider_id=provider_id, month=month, body=body, frozen_at=now)
            .on_conflict_do_nothing()
        )
        stored = self.frozen(provider_id, month)
        return body if stored is None else stored
