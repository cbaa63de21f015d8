"""Token imports as jobs: a job's phase and counts are saved while it runs and readable in
another transaction; it ends done (its tokens stored in the transaction that records it),
refused (nothing stored, the problems kept) or interrupted (its worker went quiet: nothing
of it is ever stored); one runs per tenant; a few are kept; another tenant's is not found."""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Callable, Iterator

import pytest

from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.entities import AdminKey, OtpParams, OtpType, Role
from twostep.domain.errors import Forbidden, ImportJobNotFound, ImportRunning
from twostep.domain.token_imports import CHECKING, STORING, ImportJob, ImportProgress
from twostep.domain.tokens import TokenRecord
from twostep.services.admin import OPERATOR
from twostep.services.token_import_jobs import (
    ALIVE,
    KEEP,
    STORE_ALLOWANCE,
    JobView,
    Stored,
    TokenImportJobs,
)
from twostep.services.tokens import ImportSummary

pytestmark = pytest.mark.usefixtures("backend")

WAIT = 30.0  # seconds a test waits for a thread, at most


def records(*serials: str) -> list[TokenRecord]:
    params = OtpParams(type=OtpType.TOTP)
    return [TokenRecord(serial=s, seed=secrets.token_bytes(20), params=params) for s in serials]


class Gate:
    """Holds a job's work at a point until the test opens it."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()

    def hold(self) -> None:
        self.reached.set()
        assert self.opened.wait(WAIT), "the test never opened the gate"


@pytest.fixture
def threads() -> Iterator[list[threading.Thread]]:
    made: list[threading.Thread] = []
    yield made
    for thread in made:
        thread.join(WAIT)


@pytest.fixture
def jobs(app: App, threads: list[threading.Thread]) -> TokenImportJobs:
    def start(target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, daemon=True)
        threads.append(thread)
        thread.start()

    return TokenImportJobs(app.deps, start_thread=start)


def importing(
    app: App, serials: list[str], gate: Gate | None = None, actor: AdminKey = OPERATOR
) -> Callable[[ImportProgress, Stored], ImportSummary]:
    """A job's work: three keys checked (held at the second), then stored."""

    def work(progress: ImportProgress, stored: Stored) -> ImportSummary:
        for done in range(1, len(serials) + 1):
            progress(CHECKING, done, len(serials))
            if gate is not None and done == 2:
                gate.hold()
        return app.tokens.import_records(
            actor, "default", records(*serials), progress=progress, stored=stored
        )

    return work


def ended(jobs: TokenImportJobs, job_id: str, threads: list[threading.Thread]) -> JobView:
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive()
    return jobs.show(OPERATOR, "default", job_id)


def wait_for(jobs: TokenImportJobs, job_id: str, shown: Callable[[JobView], bool]) -> JobView:
    """The job as saved, once it shows what is awaited (the reporter saves every 0.25 s)."""
    seen = threading.Event()
    view = jobs.show(OPERATOR, "default", job_id)
    for _ in range(int(WAIT / 0.05)):
        view = jobs.show(OPERATOR, "default", job_id)
        if shown(view):
            return view
        seen.wait(0.05)
    raise AssertionError(f"the job never showed it: {view}")


def serials(app: App) -> list[str | None]:
    return [t.serial for t in app.tokens.list(OPERATOR, "default")]


def test_a_jobs_progress_is_saved_while_it_runs_then_its_result(
    app: App, jobs: TokenImportJobs, threads: list[threading.Thread]
) -> None:
    gate = Gate()
    job_id = jobs.start(OPERATOR, "default", "tokens.pskc", importing(app, ["A", "B", "C"], gate))
    assert gate.reached.wait(WAIT)
    running = wait_for(jobs, job_id, lambda v: (v.phase, v.done) == (CHECKING, 2))
    assert (running.state, running.total, running.file_name) == ("running", 3, "tokens.pskc")
    assert serials(app) == []
    gate.opened.set()
    done = ended(jobs, job_id, threads)
    assert done.state == "done" and done.finished_at is not None
    assert done.summary is not None and done.summary["imported"] == 3
    assert serials(app) == ["A", "B", "C"]
    (event,) = app.admin_events.query(OPERATOR, "default", action="token.import")
    assert event.changes["imported"] == [None, 3]


def test_a_refused_row_leaves_nothing_and_the_job_keeps_every_problem(
    app: App, jobs: TokenImportJobs, threads: list[threading.Thread]
) -> None:
    app.tokens.import_records(OPERATOR, "default", records("OLD"))
    job_id = jobs.start(OPERATOR, "default", "t.csv", importing(app, ["NEW-1", "OLD", "NEW-2"]))
    refused = ended(jobs, job_id, threads)
    assert refused.state == "refused" and refused.summary is None
    assert [why for _, why in refused.problems] == [
        "serial OLD is already stored (import with update to replace it)"
    ]
    assert serials(app) == ["OLD"]
    assert len(app.admin_events.query(OPERATOR, "default", action="token.import")) == 1


def test_a_job_whose_worker_went_quiet_shows_interrupted_and_never_stores(
    app: App, jobs: TokenImportJobs, clock: FakeClock, threads: list[threading.Thread]
) -> None:
    gate = Gate()
    job_id = jobs.start(OPERATOR, "default", "a.pskc", importing(app, ["A", "B", "C"], gate))
    assert gate.reached.wait(WAIT)
    clock.advance(ALIVE + 1)  # no sign of life for longer than promised
    assert jobs.show(OPERATOR, "default", job_id).state == "interrupted"
    gate.opened.set()  # the worker was only slow: it must not store now
    assert ended(jobs, job_id, threads).state == "interrupted"
    assert serials(app) == []


def test_one_import_runs_per_tenant_and_an_interrupted_one_gives_way(
    app: App, jobs: TokenImportJobs, clock: FakeClock, threads: list[threading.Thread]
) -> None:
    gate = Gate()
    first = jobs.start(OPERATOR, "default", "a.pskc", importing(app, ["A", "B"], gate))
    assert gate.reached.wait(WAIT)
    with pytest.raises(ImportRunning):
        jobs.start(OPERATOR, "default", "b.pskc", importing(app, ["X"]))
    clock.advance(ALIVE + 1)
    second = jobs.start(OPERATOR, "default", "b.pskc", importing(app, ["X"]))
    gate.opened.set()
    assert ended(jobs, second, threads).state == "done"
    assert jobs.show(OPERATOR, "default", first).state == "interrupted"
    assert serials(app) == ["X"]


def test_only_the_newest_jobs_are_kept(
    app: App, jobs: TokenImportJobs, clock: FakeClock, threads: list[threading.Thread]
) -> None:
    made = []
    for n in range(KEEP + 2):
        made.append(jobs.start(OPERATOR, "default", f"{n}.csv", importing(app, [f"S{n}"])))
        ended(jobs, made[-1], threads)
        clock.advance(1)
    with pytest.raises(ImportJobNotFound):
        jobs.show(OPERATOR, "default", made[1])
    assert jobs.show(OPERATOR, "default", made[2]).state == "done"
    assert len(serials(app)) == KEEP + 2


def test_another_tenants_job_is_not_found_as_no_job_is(
    app: App, jobs: TokenImportJobs, threads: list[threading.Thread]
) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    (acme,) = [t for t in app.admin.list_tenants(OPERATOR) if t.name == "acme"]
    acme_admin = dataclasses.replace(OPERATOR, role=Role.TENANT_ADMIN, tenant_id=acme.id)
    job_id = jobs.start(OPERATOR, "default", "a.csv", importing(app, ["A"]))
    ended(jobs, job_id, threads)
    for tenant in ("default", "acme"):
        with pytest.raises(ImportJobNotFound):
            jobs.show(acme_admin, tenant, job_id)
    with pytest.raises(ImportJobNotFound):
        jobs.show(OPERATOR, "default", "0" * 32)


def test_a_help_desk_starts_no_import(app: App, jobs: TokenImportJobs) -> None:
    help_desk = dataclasses.replace(OPERATOR, role=Role.HELP_DESK, tenant_id=1)
    with pytest.raises(Forbidden):
        jobs.start(help_desk, "default", "a.csv", importing(app, ["A"]))


def test_the_storing_phase_is_saved_before_its_transaction_with_a_longer_promise(
    app: App, jobs: TokenImportJobs, clock: FakeClock, threads: list[threading.Thread]
) -> None:
    """SQLite's one writer is the import while it stores, so no save lands then: the
    phase is saved before its transaction, promising life for the tokens it stores."""
    seen: list[ImportJob | None] = []
    started: dict[str, str] = {}

    def work(progress: ImportProgress, stored: Stored) -> ImportSummary:
        def told(phase: str, done: int, total: int) -> None:
            progress(phase, done, total)
            if phase == STORING and done == 0:
                with app.storage.transaction() as tx:
                    seen.append(tx.token_imports.find(started["id"]))

        return app.tokens.import_records(
            OPERATOR,
            "default",
            records(*(f"S{n}" for n in range(500))),
            progress=told,
            stored=stored,
        )

    gate = Gate()

    def held(progress: ImportProgress, stored: Stored) -> ImportSummary:
        gate.hold()  # until the test knows the job's id
        return work(progress, stored)

    started["id"] = jobs.start(OPERATOR, "default", "a.csv", held)
    gate.opened.set()
    assert ended(jobs, started["id"], threads).state == "done"
    (job,) = seen
    assert job is not None and (job.phase, job.done, job.total) == (STORING, 0, 500)
    assert job.alive_until == clock.now() + ALIVE + 500 * STORE_ALLOWANCE
