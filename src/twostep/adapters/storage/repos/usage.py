"""The usage rollups in SQL: the job's reads and writes, and the figures read from the
rollups plus the events not rolled up yet (services/rollups.py says how they stay exact)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    bindparam,
    cast,
    delete,
    func,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from twostep.adapters.storage.tables import (
    audit_events,
    audit_rollups,
    challenges,
    rollup_gaps,
    rollup_state,
    users,
)
from twostep.domain.usage import (
    SECONDS_PER_DAY,
    Batch,
    Dimension,
    Gap,
    RollupKey,
    RollupState,
    UsageCount,
)

NAME = "audit"  # the one rollup so far: rollup_state's row
e = audit_events.c
r = audit_rollups.c

# The raw event's value of each dimension, as the rollup stores it ("" for a null).
_NULLABLE = ("integration", "method", "reason")


def _raw(dimension: Dimension, day: ColumnElement[Any]) -> ColumnElement[Any]:
    if dimension == "day":
        return day
    column = e[dimension]
    return func.coalesce(column, "") if dimension in _NULLABLE else column


def _day(dialect: str) -> ColumnElement[Any]:
    """``at`` as a UTC day number, computed as domain.usage.day_of does: divide, truncate
    (PostgreSQL's integer cast would round, hence floor there)."""
    quotient = e.at / SECONDS_PER_DAY
    if dialect == "postgresql":
        return cast(func.floor(quotient), Integer)
    return cast(quotient, Integer)


_LAST_SEQ = (
    select(func.coalesce(func.max(rollup_state.c.last_seq), 0))
    .where(rollup_state.c.name == NAME)
    .scalar_subquery()
)

_ROLLED = select(e.seq, e.tenant_id, e.at, e.integration, e.interface, e.method, e.result, e.reason)


def _batch(rows: Any) -> Batch:
    """Counted as the rows come: one tuple per event, a RollupKey per distinct cell (the
    job's cost per event is what it takes from the sign-ins' CPU)."""
    seqs: list[int] = []
    cells: dict[tuple[Any, ...], int] = {}
    get = cells.get
    for seq, tenant_id, at, integration, interface, method, result, reason in rows:
        seqs.append(seq)
        cell = (
            tenant_id,
            int(at / SECONDS_PER_DAY),
            integration or "",
            interface,
            method or "",
            result,
            reason or "",
        )
        cells[cell] = get(cell, 0) + 1
    return Batch(seqs, {RollupKey(*cell): n for cell, n in cells.items()})


class SqlUsageRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    # The job.

    def state(self) -> RollupState:
        row = self.conn.execute(
            select(rollup_state.c.last_seq, rollup_state.c.version).where(
                rollup_state.c.name == NAME
            )
        ).first()
        return RollupState(0, 0) if row is None else RollupState(row.last_seq, row.version)

    def events_after(self, seq: int, limit: int) -> Batch:
        return _batch(self.conn.execute(_ROLLED.where(e.seq > seq).order_by(e.seq).limit(limit)))

    def gaps(self, limit: int) -> Sequence[Gap]:
        rows = self.conn.execute(
            select(rollup_gaps.c.seq, rollup_gaps.c.seen_at)
            .order_by(rollup_gaps.c.seq)
            .limit(limit)
        )
        return [Gap(row.seq, row.seen_at) for row in rows]

    def events_at(self, seqs: Sequence[int]) -> Batch:
        if not seqs:
            return Batch([], {})
        return _batch(self.conn.execute(_ROLLED.where(e.seq.in_(seqs)).order_by(e.seq)))

    def advance(self, version: int, last_seq: int, now: float) -> bool:
        values = {"last_seq": last_seq, "version": version + 1, "updated_at": now}
        if version == 0:  # the first round ever: the row is made, by one round only
            dialect = postgresql if self.dialect == "postgresql" else sqlite
            made = self.conn.execute(
                dialect.insert(rollup_state)
                .values(name=NAME, **values)
                .on_conflict_do_nothing(index_elements=[rollup_state.c.name])
                .returning(rollup_state.c.name)
            )
            return made.first() is not None
        moved = self.conn.execute(
            update(rollup_state)
            .where(rollup_state.c.name == NAME, rollup_state.c.version == version)
            .values(**values)
        )
        return moved.rowcount == 1

    def add_counts(self, counts: Mapping[RollupKey, int]) -> None:
        if not counts:
            return
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        statement = dialect.insert(audit_rollups)
        statement = statement.on_conflict_do_update(
            index_elements=list(audit_rollups.primary_key.columns),
            set_={"events": r.events + statement.excluded.events},
        )
        rows = [
            {
                "tenant_id": k.tenant_id,
                "day": k.day,
                "integration": k.integration,
                "interface": k.interface,
                "method": k.method,
                "result": k.result,
                "reason": k.reason,
                "events": n,
            }
            for k, n in counts.items()
        ]
        self.conn.execute(statement, rows)

    def add_gaps(self, seqs: Sequence[int], now: float) -> None:
        if seqs:
            self.conn.execute(rollup_gaps.insert(), [{"seq": seq, "seen_at": now} for seq in seqs])

    def drop_gaps(self, seqs: Sequence[int]) -> None:
        if seqs:
            self.conn.execute(delete(rollup_gaps).where(rollup_gaps.c.seq.in_(seqs)))

    def rebuild(self, gap_window: int, now: float) -> RollupState:
        if self.dialect == "postgresql":
            # One snapshot for every statement below (the transaction's first statement):
            # what is counted, the position and the gaps agree. A round of the job that
            # commits meanwhile makes the update of rollup_state fail: run it again.
            self.conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        version = self.state().version
        top = self.conn.execute(select(func.coalesce(func.max(e.seq), 0))).scalar_one()
        self.conn.execute(delete(audit_rollups))
        self.conn.execute(delete(rollup_gaps))
        day = _day(self.dialect)
        keys = [
            _raw(d, day) for d in ("day", "integration", "interface", "method", "result", "reason")
        ]
        counted = (
            select(e.tenant_id, *keys, func.count())
            .where(e.seq <= top)
            .group_by(e.tenant_id, *keys)
        )
        columns = ["tenant_id", "day", "integration", "interface", "method", "result", "reason"]
        self.conn.execute(audit_rollups.insert().from_select([*columns, "events"], counted))
        seen = set(
            self.conn.execute(select(e.seq).where(e.seq > top - gap_window, e.seq <= top)).scalars()
        )
        self.add_gaps(
            [s for s in range(max(top - gap_window, 0) + 1, top + 1) if s not in seen], now
        )
        if not self.advance(version, top, now):  # cannot happen under the lock; say so
            raise RuntimeError("the rollup moved during its rebuild")
        return RollupState(top, version + 1)

    # The figures.

    def counts(
        self, tenant_id: int | None, first_day: int, last_day: int, by: Sequence[Dimension]
    ) -> Sequence[UsageCount]:
        statement = _counts_statement(self.dialect, tenant_id is not None, tuple(by))
        # The position read just before the statement (which reads it again, in its
        # snapshot) is a lower bound (it only grows) that tells the planner how few rows
        # follow: PostgreSQL otherwise plans for a third of the table and starts parallel
        # workers, ~10 ms for nothing.
        bound = {"first_day": first_day, "last_day": last_day, "hint": self.state().last_seq}
        if tenant_id is not None:
            bound["tenant_id"] = tenant_id
        found = []
        # All rows at once, read by position: a month of four dimensions is ~1,000 groups,
        # and a mapping per cell cost more than the query (bench/portal_pages.py, reports).
        for *cells, n in self.conn.execute(statement, bound).all():
            if not n:  # no group at all (a part without dimensions counts 0), nothing counted
                continue
            values = {d: _value(d, cell) for d, cell in zip(by, cells, strict=True)}
            found.append(UsageCount(int(n), **values))
        return found

    def scan_counts(
        self, tenant_id: int | None, first_day: int, last_day: int, by: Sequence[Dimension]
    ) -> Sequence[UsageCount]:
        # Bounded by ``at`` so an index on (tenant_id, at) serves it as well as it can.
        day = _day(self.dialect)
        columns = [_raw(d, day).label(d) for d in by]
        where = [
            e.at >= first_day * SECONDS_PER_DAY,
            e.at < (last_day + 1) * SECONDS_PER_DAY,
            day >= first_day,
            day <= last_day,
        ]
        if tenant_id is not None:
            where.append(e.tenant_id == tenant_id)
        stmt = select(*columns, func.count().label("n")).where(and_(*where))
        if by:
            stmt = stmt.group_by(*columns)
        return [
            UsageCount(events=int(row.n), **{d: _value(d, row._mapping[d]) for d in by})
            for row in self.conn.execute(stmt)
            if row.n
        ]

    def locked_users(self, tenant_id: int | None, now: float) -> int:
        stmt = select(func.count()).select_from(users).where(users.c.locked_until > now)
        if tenant_id is not None:
            stmt = stmt.where(users.c.tenant_id == tenant_id)
        return int(self.conn.execute(stmt).scalar_one())

    def pending_challenges(self, tenant_id: int | None, now: float) -> int:
        c = challenges.c
        stmt = (
            select(func.count())
            .select_from(challenges)
            .where(c.expires_at > now, c.state == "pending")
        )
        if tenant_id is not None:
            stmt = stmt.where(c.tenant_id == tenant_id)
        return int(self.conn.execute(stmt).scalar_one())


@functools.lru_cache(maxsize=64)
def _counts_statement(dialect: str, one_tenant: bool, by: tuple[Dimension, ...]) -> Select[Any]:
    """The figures' statement, built once per shape (its values bound at each call: the
    building cost as much as SQLite's work for a day's figures)."""
    first, last = bindparam("first_day", type_=Integer), bindparam("last_day", type_=Integer)
    tenant = bindparam("tenant_id", type_=Integer)
    keys = [r[d] for d in by]
    rolled = select(*keys, func.sum(r.events).label("n")).where(r.day >= first, r.day <= last)
    day = _day(dialect)
    tail_where = [day >= first, day <= last]
    late_where = list(tail_where)
    if one_tenant:
        rolled = rolled.where(r.tenant_id == tenant)
        tail_where.append(e.tenant_id == tenant)
        # "+ 0": no index on the tenant for the gaps' events, which SQLite would
        # otherwise walk (every event of the tenant) instead of looking up the gaps.
        late_where.append(e.tenant_id + 0 == tenant)
    rolled = rolled.group_by(*keys)
    columns = [_raw(d, day).label(d) for d in by]
    # Not rolled up yet: after the position (a range on an index ending in seq, from the
    # position read just before, ``hint``, and the one the statement reads), and the gaps
    # (a few lookups by primary key). Each part is grouped on its own, the sum of the
    # parts' groups last: the rollups' part then streams through the index on (tenant,
    # day, result, method, reason) (its order is the reports page's), instead of every
    # rollup row (a cell per integration and interface as well) being sorted with the
    # tail's events.
    after = (
        select(*columns, func.count().label("n"))
        .where(e.seq > bindparam("hint", type_=BigInteger), e.seq > _LAST_SEQ, *tail_where)
        .group_by(*columns)
    )
    late = (
        select(*columns, func.count().label("n"))
        .where(e.seq.in_(select(rollup_gaps.c.seq)), *late_where)
        .group_by(*columns)
    )
    both = union_all(rolled, after, late).subquery()
    return select(*(both.c[d] for d in by), func.sum(both.c.n).label("n")).group_by(
        *(both.c[d] for d in by)
    )


def _value(dimension: str, value: Any) -> Any:
    if dimension == "day":
        return int(value)
    return None if dimension in _NULLABLE and value == "" else value
