"""Token imports run as jobs (the management portal's uploads): started by one request, run
in a background thread of the worker that received the file, and shown by any worker from
the database while they run (issue 14: "progress").

The import itself is the CLI's and the API's, all or nothing: ``TokenPool.import_records``
stores every token in one transaction, and the job's ending (``done``) is recorded in that
same transaction, so a job is never shown done without its tokens, nor its tokens stored
under a job shown interrupted.

Progress is kept in memory by the worker thread (its ``ImportProgress`` calls are per key)
and saved by a reporter thread at most every ``SAVE_EVERY`` seconds, each save its own small
transaction that also renews the job's promise of life. A phase change is saved at once.
While storing, SQLite's one writer is the import itself: no save can land until it commits,
so the storing phase is saved before the import's transaction begins, with a promise long
enough for its tokens (``STORE_ALLOWANCE`` each). On PostgreSQL the saves land while it
stores, and the page counts the tokens checked and sealed.

Neither the file nor its key or password is ever saved: they live in the work's closure,
for the thread's life only.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from typing import Any

from twostep.domain.entities import AdminKey
from twostep.domain.errors import (
    Forbidden,
    ImportJobNotFound,
    ImportRunning,
    TenantNotFound,
    TwostepError,
)
from twostep.domain.permissions import Permission, allows
from twostep.domain.ports.storage import Transaction
from twostep.domain.token_imports import (
    DONE,
    FAILED,
    READING,
    REFUSED,
    RUNNING,
    STORING,
    ImportJob,
    ImportProgress,
)
from twostep.domain.tokens import ImportRefused
from twostep.services.admin import tenant_for
from twostep.services.context import Deps
from twostep.services.tokens import ImportSummary

KEEP = 20  # jobs kept per tenant: a new one prunes the oldest ended ones
ALIVE = 30.0  # seconds a save promises the worker lives on (its next save comes sooner)
BEAT = 5.0  # seconds between saves while nothing moves (a CSV being parsed)
SAVE_EVERY = 0.25  # seconds: progress is saved at most this often
# Seconds per token promised for the storing transaction, during which (on SQLite) no
# heartbeat can land: ~30 times what 100,000 CSV rows took on a loaded machine.
STORE_ALLOWANCE = 0.002
FILE_NAME = 128

Stored = Callable[[Transaction, ImportSummary], None]


# Reads the file and imports it (the interface's ``import_file`` over the upload): tells
# the progress where it stands and calls ``stored`` in the storing transaction.
ImportWork = Callable[[ImportProgress, Stored], ImportSummary]


class JobLapsed(Exception):
    """The job's promise of life lapsed before it could record its ending: it is shown
    interrupted, so its transaction rolls back and nothing of it is stored."""


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as a page shows it: its state as seen now (``interrupted`` for a running job
    whose worker went quiet), and its result once it ended."""

    id: str
    state: str
    phase: str
    done: int
    total: int
    file_name: str
    started_by: str
    started_at: float
    finished_at: float | None
    summary: dict[str, Any] | None = None  # done: ImportSummary's fields
    problems: list[tuple[str, str]] = field(default_factory=list)  # refused: (where, why)
    error: tuple[str, str] | None = None  # failed: (code, message)


class TokenImportJobs:
    def __init__(
        self,
        deps: Deps,
        *,
        start_thread: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self.deps = deps
        self._start_thread = start_thread or _daemon

    def start(self, actor: AdminKey, tenant_name: str, file_name: str, work: ImportWork) -> str:
        """A new job of the tenant, running ``work`` in a background thread; its id.
        ImportRunning while another import of the tenant runs (on any worker)."""
        if not allows(actor.role, Permission.TOKENS_WRITE):
            raise Forbidden("this role imports no tokens")
        now = self.deps.clock.now()
        job = ImportJob(
            id=uuid.uuid4().hex,
            tenant_id=0,
            state=RUNNING,
            phase=READING,
            done=0,
            total=0,
            file_name=file_name[:FILE_NAME],
            started_by=actor.name[:128],
            started_at=now,
            alive_until=now + ALIVE,
        )
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            running = tx.token_imports.running(tenant.id)
            if running is not None:
                if running.shown_state(now) == RUNNING:
                    raise ImportRunning(
                        f"a token import of this tenant is running ({running.file_name}, "
                        f"started by {running.started_by}): wait for it to end"
                    )
                tx.token_imports.interrupt(running.id, now)
            tx.token_imports.prune(tenant.id, KEEP - 1)
            job = ImportJob(**{**asdict(job), "tenant_id": tenant.id})
            tx.token_imports.add(job)
        run = _Run(self.deps, job.id)
        self._start_thread(lambda: run.run(work))
        return job.id

    def show(self, actor: AdminKey, tenant_name: str, job_id: str) -> JobView:
        """The job, if it is of this tenant and the actor manages the tenant; otherwise
        ImportJobNotFound, the same answer as for no such job."""
        with self.deps.storage.transaction() as tx:
            try:
                tenant = tenant_for(tx, actor, tenant_name)
            except (TenantNotFound, Forbidden):
                raise ImportJobNotFound() from None
            job = tx.token_imports.find(job_id)
        if job is None or job.tenant_id != tenant.id:
            raise ImportJobNotFound()
        return _view(job, self.deps.clock.now())


class _Run:
    """One job's run: the work on this thread, its progress saved by a reporter thread."""

    def __init__(self, deps: Deps, job_id: str) -> None:
        self.deps = deps
        self.job_id = job_id
        self._lock = threading.Lock()
        self._at = (READING, 0, 0)  # where the work stands, as it last said
        self._saved = self._at
        self._ended = threading.Event()

    def run(self, work: ImportWork) -> None:
        reporter = threading.Thread(target=self._report, name="token-import-report", daemon=True)
        reporter.start()
        try:
            work(self.progress, self.stored)
        except JobLapsed:
            pass  # shown interrupted; its transaction rolled back
        except ImportRefused as refused:
            problems = [[p.where, p.reason] for p in refused.problems]
            self._finish(REFUSED, {"problems": problems})
        except TwostepError as exc:
            self._finish(FAILED, {"code": exc.code, "message": exc.message})
        except Exception:  # a job must end, whatever stopped it
            self._finish(FAILED, {"code": "error", "message": "the import failed"})
            raise  # logged by the thread's excepthook, the file's secrets not in it
        finally:
            self._ended.set()
            reporter.join(timeout=ALIVE)

    def progress(self, phase: str, done: int, total: int) -> None:
        with self._lock:
            before, self._at = self._at, (phase, done, total)
        if phase != before[0]:
            # A phase change is saved at once, from this thread; storing's promise covers
            # the transaction that follows, in which (SQLite) no save can land.
            extra = total * STORE_ALLOWANCE if phase == STORING else 0.0
            self._save(extra)

    def stored(self, tx: Transaction, summary: ImportSummary) -> None:
        """In the import's transaction: the job ends with it, or (lapsed) neither does."""
        result = json.dumps({"summary": asdict(summary)}, sort_keys=True)
        if not tx.token_imports.finish(self.job_id, DONE, result, self.deps.clock.now()):
            raise JobLapsed()

    def _report(self) -> None:
        last = time.monotonic()
        while not self._ended.wait(SAVE_EVERY):
            quiet = time.monotonic() - last
            if self._at != self._saved or quiet >= BEAT:
                # A busy database (a conflict): the next beat tries again, within ALIVE.
                with suppress(TwostepError):
                    self._save(0.0)
                last = time.monotonic()

    def _save(self, extra: float) -> None:
        with self._lock:
            phase, done, total = at = self._at
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tx.token_imports.progress(self.job_id, phase, done, total, now, now + ALIVE + extra)
        self._saved = at

    def _finish(self, state: str, result: dict[str, Any]) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tx.token_imports.finish(
                self.job_id, state, json.dumps(result, sort_keys=True), self.deps.clock.now()
            )


def _view(job: ImportJob, now: float) -> JobView:
    result: dict[str, Any] = json.loads(job.result) if job.result else {}
    error = result.get("code"), result.get("message")
    return JobView(
        id=job.id,
        state=job.shown_state(now),
        phase=job.phase,
        done=job.done,
        total=job.total,
        file_name=job.file_name,
        started_by=job.started_by,
        started_at=job.started_at,
        finished_at=job.finished_at,
        summary=result.get("summary"),
        problems=[(str(w), str(r)) for w, r in result.get("problems", [])],
        error=(str(error[0]), str(error[1])) if error[0] else None,
    )


def _daemon(target: Callable[[], None]) -> None:
    # A daemon: a worker that stops does not wait for it (the job then shows interrupted).
    threading.Thread(target=target, name="token-import", daemon=True).start()
