"""Audit events written as the sign-ins write them (the audit repository, in a write
transaction), and the usage figures counted by brute force over what was written."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete

from twostep.adapters.storage import tables
from twostep.adapters.storage.repos.audit import SqlAuditRepo
from twostep.adapters.storage.storage import SqlStorage
from twostep.domain.audit import AuditEvent
from twostep.domain.usage import UsageCount

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Written:
    """One event a test wrote: its tenant and what the rollup groups by."""

    tenant_id: int
    tenant: str
    at: float
    result: str = "accept"
    method: str | None = "app_code"
    reason: str | None = None
    integration: str | None = "vpn"
    interface: str = "http"

    def event(self) -> AuditEvent:
        return AuditEvent(
            event_id=str(uuid.uuid4()),
            at=self.at,
            tenant=self.tenant,
            user="alice",
            method=self.method,
            result=self.result,
            reason=self.reason,
            integration=self.integration,
            server_name="node-a",
            server_ip=None,
            interface=self.interface,
        )

    @property
    def day(self) -> dt.date:  # the UTC calendar day, by the calendar (not by division)
        return dt.datetime.fromtimestamp(self.at, dt.UTC).date()


def write(storage: SqlStorage, events: Iterable[Written]) -> None:
    with storage.transaction(write=True) as tx:
        repo = SqlAuditRepo(tx.conn)
        for one in events:
            repo.add(one.tenant_id, one.event())


def forget_everything(storage: SqlStorage) -> None:
    """Empty the audit log and the rollups (between a property test's examples)."""
    with storage.transaction(write=True) as tx:
        for table in (
            tables.audit_events,
            tables.audit_rollups,
            tables.rollup_gaps,
            tables.rollup_state,
        ):
            tx.conn.execute(delete(table))


EPOCH = dt.date(1970, 1, 1)


def brute_force(
    events: Sequence[Written],
    tenant_id: int | None,
    first: dt.date,
    last: dt.date,
    by: Sequence[str],
) -> Counter[tuple[object, ...]]:
    """Counts over the raw events written, grouped by ``by`` (day as a day number)."""
    found: Counter[tuple[object, ...]] = Counter()
    for one in events:
        if tenant_id is not None and one.tenant_id != tenant_id:
            continue
        if not first <= one.day <= last:
            continue
        values = {
            "day": (one.day - EPOCH).days,
            "integration": one.integration,
            "interface": one.interface,
            "method": one.method,
            "result": one.result,
            "reason": one.reason,
        }
        found[tuple(values[d] for d in by)] += 1
    return found


def as_counter(counts: Sequence[UsageCount], by: Sequence[str]) -> Counter[tuple[object, ...]]:
    found: Counter[tuple[object, ...]] = Counter()
    for count in counts:
        key = tuple(getattr(count, d) for d in by)
        assert key not in found, f"{key} twice"
        found[key] = count.events
    return found
