"""A directory sync's counts and record: what it did so far (saved every batch, so any node
can show a running sync's progress), what it found wrong, and when the next one is due."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from twostep.domain.directory import Directory

LIST_LIMIT = 1000  # names listed per kind of change in a dry run's answer
PROBLEM_LIMIT = 100  # problems kept in the record (the counts count them all)
PASSED_OVER_LIMIT = 1000  # entries remembered as passed over (see DirectorySync)
RETRY_AFTER = 300.0  # a scheduled sync that failed is tried again after at most this
FULL_EVERY = 24 * 3600.0  # a scheduled sync is a full one at least this often

RUNNING = "running"
DONE = "done"
FAILED = "failed"
INTERRUPTED = "interrupted"  # its server stopped it, or stopped renewing its lease


@dataclass(slots=True)
class SyncCounts:
    seen: int = 0  # entries read from the directory
    created: int = 0
    changed: int = 0  # users whose fields changed (a rename or a link included)
    disabled: int = 0  # users disabled: removed from the directory's scope, or disabled there
    enabled: int = 0  # users the directory had disabled, active again
    skipped: int = 0  # entries without a usable user ID, DN or stable id
    conflicts: int = 0  # entries whose name another user of the tenant has
    errors: int = 0  # entries whose write failed (a concurrent change, twice)
    bad_phones: int = 0  # entries whose number could not be read as E.164
    methods_added: int = 0  # phone methods made from the directory's number
    methods_refused: int = 0  # phone methods the tenant refused (country, line type, PIN)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def of(cls, data: dict[str, Any]) -> SyncCounts:
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in known})


@dataclass(frozen=True, slots=True)
class Problem:
    """An entry a sync passed over (or could not fully take), and why."""

    dn: str
    reason: str  # no_user_id, invalid_user_id, invalid_entry, conflict, error, method_refused
    detail: str
    user: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One user a sync made, changed, disabled or enabled (a dry run lists them)."""

    user: str
    dn: str | None = None
    fields: tuple[str, ...] = ()  # changed: which fields


@dataclass(slots=True)
class SyncRecord:
    """What ``directories.sync_progress`` holds: the running or last sync."""

    state: str
    full: bool
    started_at: float
    heartbeat: float  # the last save: a running sync renews it with its lease
    finished_at: float | None = None
    counts: SyncCounts = field(default_factory=SyncCounts)
    error: str | None = None  # the error code that stopped it
    message: str | None = None
    problems: list[Problem] = field(default_factory=list)
    # Entries passed over (skipped, conflicts) by the last syncs: an incremental sync does
    # not fetch them again because the presence sweep finds them unlinked.
    passed_over: list[str] = field(default_factory=list)
    last_full_at: float | None = None

    def dumps(self) -> str:
        data = asdict(self)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def loads(cls, text: str | None) -> SyncRecord | None:
        if not text:
            return None
        data = json.loads(text)
        return cls(
            state=data["state"],
            full=bool(data["full"]),
            started_at=float(data["started_at"]),
            heartbeat=float(data.get("heartbeat", data["started_at"])),
            finished_at=data.get("finished_at"),
            counts=SyncCounts.of(data.get("counts", {})),
            error=data.get("error"),
            message=data.get("message"),
            problems=[Problem(**p) for p in data.get("problems", [])],
            passed_over=list(data.get("passed_over", [])),
            last_full_at=data.get("last_full_at"),
        )

    def shown_state(self, now: float, lease_seconds: float) -> str:
        """``running`` only while the syncing node keeps renewing its lease."""
        if self.state == RUNNING and now > self.heartbeat + lease_seconds:
            return INTERRUPTED
        return self.state

    def add_problem(self, problem: Problem) -> None:
        if len(self.problems) < PROBLEM_LIMIT:
            self.problems.append(problem)


def due(directory: Directory, record: SyncRecord | None, now: float, lease_seconds: float) -> bool:
    """A scheduled sync is due: never synced, or its interval has passed since the last
    attempt ended (a failed or interrupted one is tried again sooner)."""
    interval = directory.settings.sync_interval
    if interval <= 0:
        return False
    if record is None:
        return directory.synced_at is None or now >= directory.synced_at + interval
    state = record.shown_state(now, lease_seconds)
    if state == RUNNING:
        return False
    ended = record.finished_at if record.finished_at is not None else record.heartbeat
    wait = interval if state == DONE else min(interval, RETRY_AFTER)
    return now >= ended + wait


def wants_full(record: SyncRecord | None, now: float) -> bool:
    """A scheduled sync is full when none was for a day: it takes again what incremental
    ones pass over (an entry whose name conflict an admin resolved by deleting the other
    user: the entry itself did not change)."""
    return record is None or record.last_full_at is None or now >= record.last_full_at + FULL_EVERY
