"""The usage rollup job: audit events counted per tenant, UTC day, integration, interface,
method, result and reason (the ``audit_rollups`` table), so the dashboard and the reports
read a few hundred counts instead of scanning the audit log. It runs apart from the
sign-ins (their transaction does not change): every few seconds in one process per node
(``TWOSTEP_ROLLUP_INTERVAL``), and by hand with ``twostep audit rollup``.

**Position.** Audit events are numbered by ``audit_events.seq``: SQLite's rowid, the
greatest plus one at insert time; on PostgreSQL a ``BIGSERIAL`` sequence. A round reads the
next events after ``rollup_state.last_seq`` (at most ``batch``, by the primary key), and
in one write transaction moves the position past them and adds their counts. The move is
a conditional update on the state's ``version`` (``advance``): two nodes (or the CLI and a
node) running a round at once both read the same version, one moves it, the other's
update matches nothing and it writes nothing. A crash before the commit leaves both the
position and the counts as they were: never counted twice, never lost.

**Late commits.** On SQLite one writer at a time inserts, so seqs become visible in
order. On PostgreSQL a transaction takes its seq when it inserts and may commit after a
later one: seq 41 may appear after 42 was rolled up. A round therefore records each seq it
stepped over but did not see (``rollup_gaps``), and looks at the gaps every round: an
event that appeared is counted and its gap dropped, in the same transaction. A rolled-back
insert leaves a gap that never fills; it is dropped after ``gap_seconds`` (15 minutes: far
longer than any sign-in transaction, whose statements are bounded in time). We chose gaps
over a safety window ("roll up only what is older than N seconds") because the window
must be long to be safe, and everything inside it is the tail every figure must scan;
with gaps the tail is only what arrived since the last round, and a late event is exact
as soon as it commits. Gaps are few (rollbacks of a sign-in are rare); at most
``MAX_NEW_GAPS`` are recorded per round: a larger jump of the sequence (PostgreSQL skips
up to 32 values after a crash; a restore may skip more) is taken as never used.

**Exact and current.** A figure is the rollups plus the events not rolled up yet (after
the position, or in a gap), read in one SQL statement, hence one snapshot: a round that
commits in between moves events from one side to the other, never both or neither
(UsageRepo.counts). ``rebuild`` recounts everything from the raw events in one
transaction (``twostep audit rollup --rebuild``), e.g. after restoring a backup.

**A rebuild and the rounds.** They exclude each other through the ``rollups`` lease (the
leases table, as the directory syncs pick one runner). A rebuild takes it in a transaction
of its own, committed before its counting transaction starts, and releases it after; a
round takes it inside its writing transaction and releases it there before the commit.
A round that finds the rebuild holding it writes nothing (``moved=False``); a rebuild
whose take meets a round's uncommitted one waits for that commit (PostgreSQL's row lock;
SQLite's writers are serial anyway), so its snapshot holds every round that wrote, and a
round that read the position before the rebuild fails its ``advance`` afterwards. Without
it, on PostgreSQL a round committing during a rebuild's counting could leave its counts
beside the rebuild's or abort the rebuild.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from twostep.domain.errors import Conflict
from twostep.domain.ports.directory import LeaseRepo
from twostep.domain.ports.storage import Storage
from twostep.domain.ports.usage import UsageRepo
from twostep.domain.usage import RollupKey, RollupState
from twostep.services.context import Deps
from twostep.services.leases import Lease

log = logging.getLogger("twostep.rollups")

BATCH = 5000  # events per round: the write transaction stays a few milliseconds
MAX_ROUNDS = 20  # rounds per run (per tick of the server's timer): 100,000 events
GAP_SECONDS = 900.0  # how long a seq the job stepped over is waited for
MAX_GAPS = 1000  # gaps looked at per round (oldest seqs first)
MAX_NEW_GAPS = 1000  # seqs recorded as gaps per round; beyond, taken as never used
REBUILD_GAP_WINDOW = 1000  # a rebuild records the missing seqs among the last this many
LEASE = "rollups"  # held by a rebuild for its whole run, by a round inside its transaction
# A rebuild of a large log takes minutes; a crashed one holds the rounds back this long.
REBUILD_LEASE_SECONDS = 900.0
ROUND_LEASE_SECONDS = 60.0  # never outlives the round's transaction (released in it)


class RollupWork(Protocol):
    @property
    def usage(self) -> UsageRepo: ...

    @property
    def leases(self) -> LeaseRepo: ...


@dataclass(frozen=True, slots=True)
class Round:
    """What one round did: events counted (new, and late ones that filled a gap), gaps
    recorded and given up, and whether it had the position (False: another round moved
    it first and this one wrote nothing)."""

    counted: int = 0
    late: int = 0
    new_gaps: int = 0
    dropped_gaps: int = 0
    last_seq: int = 0
    moved: bool = True
    full: bool = False  # a whole batch: more may be waiting


@dataclass(frozen=True, slots=True)
class Plan:
    """What a round read: the state it read, the position it moves to, the counts to add
    (new events and late ones), and the gaps to record, fill and give up."""

    state: RollupState
    last_seq: int
    counts: Mapping[RollupKey, int]
    events: int
    found: list[int]
    new_gaps: list[int]
    given_up: list[int]
    now: float


@dataclass(frozen=True, slots=True)
class RunReport:
    rounds: int
    counted: int
    late: int
    last_seq: int
    caught_up: bool


class RollupJob:
    def __init__(
        self,
        deps: Deps,
        *,
        batch: int = BATCH,
        gap_seconds: float = GAP_SECONDS,
    ) -> None:
        self.deps = deps
        self.storage: Storage[RollupWork] = deps.storage
        self.clock = deps.clock
        self.batch = batch
        self.gap_seconds = gap_seconds
        self.holder = Lease(deps, LEASE).holder  # this job's name in the leases table

    def round(self) -> Round:
        """One bounded round: read outside any lock, then one short write transaction."""
        return self.apply(self.prepare())

    def prepare(self) -> Plan:
        """A round's reading half: what to count and where the position goes."""
        with self.storage.transaction() as tx:
            state = tx.usage.state()
            events = tx.usage.events_after(state.last_seq, self.batch)
            gaps = tx.usage.gaps(MAX_GAPS)
            filled = tx.usage.events_at([g.seq for g in gaps])
        now = self.clock.now()
        counts: Counter[RollupKey] = Counter(events.counts)
        counts.update(filled.counts)
        found = filled.seqs
        seen = set(found)
        given_up = [g.seq for g in gaps if g.seq not in seen and g.seen_at < now - self.gap_seconds]
        last_seq = events.seqs[-1] if events.seqs else state.last_seq
        new_gaps = _missing(state.last_seq, events.seqs)
        skipped = last_seq - state.last_seq - len(events.seqs) - len(new_gaps)
        if skipped:
            log.warning(
                "audit seqs %d-%d: %d missing ones taken as never used (only the %d "
                "below each seen seq are waited for)",
                state.last_seq + 1,
                last_seq,
                skipped,
                MAX_NEW_GAPS,
            )
        return Plan(state, last_seq, counts, len(events.seqs), found, new_gaps, given_up, now)

    def apply(self, plan: Plan) -> Round:
        """A round's writing half: one transaction, if the position is still where the
        plan read it (else nothing: another round counted these events)."""
        if not plan.events and not plan.found and not plan.given_up:
            return Round(last_seq=plan.state.last_seq)
        with self.storage.transaction(write=True) as tx:
            now = self.clock.now()
            # Not while a rebuild runs; held (a row lock) until this commit, released in it.
            moved = tx.leases.take(LEASE, self.holder, now, now + ROUND_LEASE_SECONDS)
            moved = moved and tx.usage.advance(plan.state.version, plan.last_seq, plan.now)
            if moved:
                tx.usage.add_counts(plan.counts)
                tx.usage.add_gaps(plan.new_gaps, plan.now)
                tx.usage.drop_gaps(plan.found + plan.given_up)
            tx.leases.release(LEASE, self.holder)
        if not moved:  # another round counted these events, or a rebuild is running
            return Round(last_seq=plan.state.last_seq, moved=False)
        if plan.given_up:
            log.info("audit seqs given up after %.0f s: %s", self.gap_seconds, plan.given_up[:20])
        return Round(
            counted=plan.events,
            late=len(plan.found),
            new_gaps=len(plan.new_gaps),
            dropped_gaps=len(plan.given_up),
            last_seq=plan.last_seq,
            full=plan.events == self.batch,
        )

    def run(
        self, max_rounds: int = MAX_ROUNDS, stopping: Callable[[], bool] = lambda: False
    ) -> RunReport:
        """Rounds until caught up (a round that was not full), at most ``max_rounds``."""
        counted = late = rounds = 0
        last = Round()
        while rounds < max_rounds and not stopping():
            last = self.round()
            rounds += 1
            counted += last.counted
            late += last.late
            if not last.full:
                break
        return RunReport(rounds, counted, late, last.last_seq, caught_up=not last.full)

    def rebuild(self) -> RollupState:
        """Recount every rollup from the raw events, in one write transaction, holding the
        rollups' lease (no round writes meanwhile). Another rebuild holding it: Conflict."""
        lease = Lease(self.deps, LEASE, REBUILD_LEASE_SECONDS)
        if not lease.take():
            raise Conflict(
                "another rebuild of the rollups is running (a stopped one holds the rounds "
                f"back for at most {REBUILD_LEASE_SECONDS:.0f} s): try again later"
            )
        try:
            with self.storage.transaction(write=True) as tx:
                return tx.usage.rebuild(REBUILD_GAP_WINDOW, self.clock.now())
        finally:
            lease.release()


class RollupTimer:
    """The job on a timer: one thread in one process per node (``twostep serve`` picks it,
    as for the directory syncs) runs ``RollupJob.run`` every ``every`` seconds. Other
    nodes may run theirs too: ``advance`` lets one round win each position."""

    def __init__(self, job: RollupJob, every: float) -> None:
        self.job = job
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.every <= 0:  # TWOSTEP_ROLLUP_INTERVAL=0: off on this node
            return
        self._thread = threading.Thread(target=self._loop, name="twostep-rollups", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):  # a bounded sleep, cut short by stop()
            try:
                self.job.run(stopping=self._stop.is_set)
            except Exception:  # the database is away: the next tick tries again
                log.exception("rolling up the audit events failed")


def _missing(after: int, seqs: list[int]) -> list[int]:
    """The seqs between ``after`` and the last of ``seqs`` (ascending) not among them; of
    a longer run than ``MAX_NEW_GAPS``, only the last ones (a transaction still open holds
    a recent seq), and at most ``MAX_NEW_GAPS`` in all, the greatest."""
    missing: list[int] = []
    expected = after + 1
    for seq in seqs:
        if seq > expected:
            missing.extend(range(max(expected, seq - MAX_NEW_GAPS), seq))
        expected = seq + 1
    return missing[-MAX_NEW_GAPS:]
