"""One sync of one directory: its users taken into Twostep, by one node at a time.

1. Entries: every user in scope (a full sync), or those changed since the cursor (an
   incremental one), in batches of a few hundred per transaction, so SQLite's writer lock
   is never held long and memory stays bounded (see directory_batch.py).
2. The presence sweep: the stable ids of everyone in scope now (one attribute each).
   Users of the directory not among them were deleted, moved out of the filter or out of
   the MFA group: disabled (``directory_removed``). Their methods stay. An incremental sync
   also fetches the entries it did not read but finds in scope and not taken yet (added to
   the MFA group: Active Directory does not move a member's change counter), or whose user
   it had disabled as removed.

Nothing is disabled unless the whole sweep was read: a directory that cannot be read, or
answers no one in scope, disables no one. The sync holds the lease ``directory:<id>``,
renewed as it goes; a second sync meanwhile hears ``sync_running``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from twostep.domain.admin_events import OK, AdminEvent
from twostep.domain.directory import Directory, DirectoryEntry
from twostep.domain.entities import AdminKey, DisabledReason, Role, Tenant
from twostep.domain.errors import Conflict, DirectoryNotFound, SyncRunning, TwostepError
from twostep.domain.ports.directory import DirectoryConnection, DirectoryConnector, Member
from twostep.services.context import Deps
from twostep.services.directories import open_password, require_directory_admin
from twostep.services.directory_batch import Batch, Lists, Outcome
from twostep.services.directory_progress import (
    DONE,
    FAILED,
    INTERRUPTED,
    PASSED_OVER_LIMIT,
    RUNNING,
    Change,
    Problem,
    SyncCounts,
    SyncRecord,
    due,
    wants_full,
)
from twostep.services.leases import LEASE_SECONDS, Lease, directory_lease

BATCH = 200  # entries per transaction
SWEEP_PAGE = 1000  # users read per page by the presence sweep
CHECKPOINT_SECONDS = 5.0  # the lease is renewed at every batch, and this often while reading

# The scheduler as the admin trail's actor.
SCHEDULER = AdminKey(
    id=0,
    key_id="scheduler",
    name="scheduler",
    role=Role.GLOBAL_ADMIN,
    tenant_id=None,
    created_at=0,
    source="scheduler",
    interface="sync",
)

Progress = Callable[[SyncCounts], None]
Stopping = Callable[[], bool]  # the server is shutting down: a scheduled sync stops


class SyncStopped(Exception):
    """The server stopped a scheduled sync at a checkpoint (between batches)."""


@dataclass(slots=True)
class SyncReport:
    directory: str
    full: bool
    dry_run: bool
    counts: SyncCounts
    started_at: float
    finished_at: float
    problems: list[Problem]
    message: str | None = None
    lists: Lists = field(default_factory=Lists)  # a dry run's: what it would do


@dataclass(slots=True)
class _Run:
    tenant: Tenant
    directory: Directory
    record: SyncRecord
    batch: Batch
    dry_run: bool
    lease: Lease | None
    progress: Progress | None
    stopping: Stopping | None = None
    lists: Lists = field(default_factory=Lists)
    seen: set[str] | None = None  # external ids read (an incremental sync's, or a dry run's)
    checkpoint_at: float = field(default_factory=time.monotonic)

    def merge(self, out: Outcome) -> None:
        total = self.record.counts
        for name, value in out.counts.as_dict().items():
            setattr(total, name, getattr(total, name) + value)
        for problem in out.problems:
            self.record.add_problem(problem)
        if len(self.record.passed_over) < PASSED_OVER_LIMIT:
            room = PASSED_OVER_LIMIT - len(self.record.passed_over)
            self.record.passed_over.extend(out.passed_over[:room])
        if self.dry_run:
            self.lists.add(out)


class DirectorySync:
    def __init__(
        self,
        deps: Deps,
        connector: DirectoryConnector,
        *,
        batch: int = BATCH,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.deps = deps
        self.connector = connector
        self.batch_size = batch
        self.lease_seconds = lease_seconds

    def sync(
        self,
        actor: AdminKey,
        tenant_name: str,
        name: str,
        *,
        full: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> SyncReport:
        """Sync the directory ``name`` now (``full``: every entry, not only those changed
        since the last sync). ``dry_run``: write nothing, say what would change."""
        with self.deps.storage.transaction() as tx:
            tenant = require_directory_admin(tx, actor, tenant_name)
            directory = tx.directories.by_name(tenant.id, name)
            if directory is None:
                raise DirectoryNotFound(f"no directory {name!r}")
        report = self._run(actor, tenant, directory.id, full, dry_run, progress, scheduled=False)
        assert report is not None
        return report

    def due_ids(self) -> list[str]:
        """The directories a scheduled sync may be due for (sync_interval > 0)."""
        with self.deps.storage.transaction() as tx:
            return [d.id for d in tx.directories.list() if d.settings.sync_interval > 0]

    def scheduled(self, directory_id: str, stopping: Stopping | None = None) -> SyncReport | None:
        """Sync the directory if it is due, decided under its lease (so a sync another node
        just finished is not run again); None when not due or running elsewhere. It stops
        at the next batch once ``stopping()`` (SyncStopped): the next one starts afresh."""
        with self.deps.storage.transaction() as tx:
            directory = tx.directories.by_id(directory_id)
            tenant = tx.tenants.by_id(directory.tenant_id) if directory else None
        if directory is None or tenant is None:
            return None
        return self._run(
            SCHEDULER, tenant, directory_id, False, False, None, scheduled=True, stopping=stopping
        )

    # -- one run ------------------------------------------------------------------------

    def _run(
        self,
        actor: AdminKey,
        tenant: Tenant,
        directory_id: str,
        full: bool,
        dry_run: bool,
        progress: Progress | None,
        *,
        scheduled: bool,
        stopping: Stopping | None = None,
    ) -> SyncReport | None:
        if dry_run:  # writes nothing, so takes no lease
            return self._attempt(actor, tenant, directory_id, full, True, progress, None, False)
        lease = directory_lease(self.deps, directory_id, self.lease_seconds)
        if not lease.take():
            if scheduled:
                return None
            raise SyncRunning("a sync of this directory is running; wait for it")
        try:
            return self._attempt(
                actor, tenant, directory_id, full, False, progress, lease, scheduled, stopping
            )
        finally:
            lease.release()

    def _attempt(
        self,
        actor: AdminKey,
        tenant: Tenant,
        directory_id: str,
        full: bool,
        dry_run: bool,
        progress: Progress | None,
        lease: Lease | None,
        scheduled: bool,
        stopping: Stopping | None = None,
    ) -> SyncReport | None:
        with self.deps.storage.transaction() as tx:
            directory = tx.directories.by_id(directory_id)
            if directory is None:
                raise DirectoryNotFound("the directory was deleted")
            last = SyncRecord.loads(tx.directories.progress(directory_id))
            password = open_password(self.deps, tx, directory_id)
        now = self.deps.clock.now()
        if scheduled:
            if not due(directory, last, now, self.lease_seconds):
                return None
            full = full or wants_full(last, now)
        since = None if full else directory.sync_cursor
        record = SyncRecord(
            state=RUNNING,
            full=since is None,
            started_at=now,
            heartbeat=now,
            passed_over=list(last.passed_over) if last and since is not None else [],
            last_full_at=last.last_full_at if last else None,
        )
        run = _Run(
            tenant=tenant,
            directory=directory,
            record=record,
            batch=Batch(self.deps, tenant, directory, dry_run=dry_run),
            dry_run=dry_run,
            lease=lease,
            progress=progress,
            stopping=stopping,
            seen=set() if since is not None or dry_run else None,
        )
        self._checkpoint(run, force=True)
        try:
            cursor = self._read(run, password, since)
        except SyncRunning:
            raise  # the lease went to another node: its record is not ours to write
        except SyncStopped as exc:
            self._finish(run, actor, INTERRUPTED, None, exc)
            raise
        except Exception as exc:
            self._finish(run, actor, FAILED, None, exc)
            raise
        self._finish(run, actor, DONE, cursor, None)
        return SyncReport(
            directory=directory.name,
            full=record.full,
            dry_run=dry_run,
            counts=record.counts,
            started_at=record.started_at,
            finished_at=record.finished_at or now,
            problems=list(record.problems),
            message=record.message,
            lists=run.lists,
        )

    def _read(self, run: _Run, password: str | None, since: str | None) -> str | None:
        conn = self.connector.connect(run.directory.settings, password)
        try:
            scan = conn.users(since)
            self._take(run, scan.entries)
            refetch = self._sweep(run, conn, incremental=since is not None)
            if refetch:
                self._take(run, (e for e in conn.users(None).entries if e.external_id in refetch))
            return scan.next_cursor
        finally:
            conn.close()

    def _take(self, run: _Run, entries: Iterable[DirectoryEntry]) -> None:
        it = iter(entries)
        while batch := list(islice(it, self.batch_size)):
            if run.seen is not None:
                run.seen.update(e.external_id for e in batch)
            self._write(run, batch)
            self._checkpoint(run, force=True)

    def _write(self, run: _Run, entries: Sequence[DirectoryEntry]) -> None:
        """The batch in one transaction; after a conflict with a concurrent change, once
        more, then entry by entry (an entry that conflicts twice is counted an error)."""
        for _attempt in range(2):
            try:
                with self.deps.storage.transaction(write=not run.dry_run) as tx:
                    out = run.batch.apply(tx, entries)
                run.merge(out)
                return
            except Conflict:
                continue
        for entry in entries:
            try:
                with self.deps.storage.transaction(write=True) as tx:
                    out = run.batch.apply(tx, [entry])
                run.merge(out)
            except Conflict as exc:
                run.record.counts.seen += 1
                run.record.counts.errors += 1
                run.record.add_problem(Problem(entry.dn, "error", exc.message))

    def _sweep(self, run: _Run, conn: DirectoryConnection, *, incremental: bool) -> set[str]:
        """Disable the directory's users no longer in scope; the ids to fetch again."""
        present: set[str] = set()
        for external_id in conn.present():
            present.add(external_id)
            if len(present) % 1000 == 0:
                self._checkpoint(run)
        if not present:
            run.record.message = (
                "the directory answered no user in scope: nothing was disabled "
                "(check base_dn, user_filter and mfa_group)"
            )
            return set()
        refetch: set[str] = set()
        for page in self._members(run.directory.id):
            gone: list[Member] = []
            for member in page:
                if member.external_id in present:
                    present.discard(member.external_id)  # what stays is not taken yet
                    if incremental and member.disabled_reason == _REMOVED:
                        refetch.add(member.external_id)
                elif member.disabled_reason is None:
                    gone.append(member)
            if gone:
                self._disable(run, gone)
            self._checkpoint(run)
        if incremental:
            refetch |= present - (run.seen or set()) - set(run.record.passed_over)
        return refetch

    def _members(self, directory_id: str) -> Iterator[Sequence[Member]]:
        after = 0
        while True:
            with self.deps.storage.transaction() as tx:
                page = tx.directory_users.members(directory_id, after, SWEEP_PAGE)
            if not page:
                return
            yield page
            after = page[-1].user_id

    def _disable(self, run: _Run, gone: list[Member]) -> None:
        out = Outcome()
        if run.dry_run:
            out.counts.disabled = len(gone)
            out.disabled = [Change(m.name, m.dn) for m in gone]
        else:
            with self.deps.storage.transaction(write=True) as tx:
                out.counts.disabled = tx.directory_users.disable(
                    [m.user_id for m in gone], self.deps.clock.now(), _REMOVED
                )
        run.merge(out)

    def _checkpoint(self, run: _Run, *, force: bool = False) -> None:
        """Renew the lease and save the progress (every batch; every few seconds while
        reading); tell the caller's progress callback."""
        if run.progress is not None:
            run.progress(run.record.counts)
        if run.stopping is not None and run.stopping():
            raise SyncStopped()
        if not force and time.monotonic() - run.checkpoint_at < CHECKPOINT_SECONDS:
            return
        run.checkpoint_at = time.monotonic()
        if run.dry_run or run.lease is None:
            return
        run.record.heartbeat = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            if not run.lease.take_in(tx):
                raise SyncRunning("this sync lost its lease to another node; it stopped")
            tx.directories.save_progress(run.directory.id, run.record.dumps())

    def _finish(
        self,
        run: _Run,
        actor: AdminKey,
        state: str,
        cursor: str | None,
        error: Exception | None,
    ) -> None:
        now = self.deps.clock.now()
        record = run.record
        record.state, record.finished_at, record.heartbeat = state, now, now
        if state == DONE and record.full:
            record.last_full_at = record.started_at
        if isinstance(error, SyncStopped):
            record.message = "the server stopped; the next sync starts afresh"
        elif error is not None:
            record.error = error.code if isinstance(error, TwostepError) else "internal_error"
            record.message = error.message if isinstance(error, TwostepError) else None
        if run.dry_run:
            return
        changed = {"full": record.full, **{k: v for k, v in record.counts.as_dict().items() if v}}
        with self.deps.storage.transaction(write=True) as tx:
            if state == DONE:
                tx.directories.finish_sync(run.directory.id, cursor, now)
            tx.directories.save_progress(run.directory.id, record.dumps())
            # Built here, not by admin_log.record: a failed sync is recorded with its error
            # as the result, and with what it did before it stopped.
            event = AdminEvent(
                event_id=str(uuid.uuid4()),
                at=now,
                actor=actor.key_id,
                action="directory.sync",
                result=OK if state == DONE else (record.error or state),
                interface=actor.interface,
                server_name=self.deps.node.name,
                tenant=run.tenant.name,
                actor_name=actor.name,
                role=actor.role.value,
                source=actor.source,
                target=run.directory.name,
                changes=changed,
            )
            tx.admin_events.add(run.tenant.id, event)


_REMOVED = DisabledReason.DIRECTORY_REMOVED.value
