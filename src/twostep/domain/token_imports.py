"""A token import run as a job (the management portal's uploads): its phase and counts as
the worker running it last saved them, and its result once it ended.

A job is ``running`` until its worker records how it ended. The worker promises its next
sign of life (``alive_until``); a running job past that promise is shown as
``interrupted``: its worker died or was stopped, and nothing of it was stored (the import
is one transaction, and its ending is recorded in that transaction only while the promise
holds). Neither the file nor its key or password is ever part of a job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

RUNNING = "running"
DONE = "done"
REFUSED = "refused"  # the file or a row was refused: nothing stored, the problems listed
FAILED = "failed"  # an error that is not the file's (the tenant went, the database failed)
INTERRUPTED = "interrupted"
ENDED = frozenset({DONE, REFUSED, FAILED, INTERRUPTED})

READING = "reading"  # the file is parsed (and a PSKC key derived from the password)
CHECKING = "checking"  # each key is checked: MAC, decryption, its values
STORING = "storing"  # checked against the pool and stored, in one transaction
PHASES = (READING, CHECKING, STORING)


class ImportProgress(Protocol):
    """Told where an import stands: ``done`` of ``total`` in ``phase`` (``total`` 0 while
    it is not known). Called often (per key): it must be cheap, and it never writes."""

    def __call__(self, phase: str, done: int, total: int) -> None: ...


def no_progress(phase: str, done: int, total: int) -> None:
    """Tells nobody: the CLI and the API import without a job."""


@dataclass(frozen=True, slots=True)
class ImportJob:
    id: str
    tenant_id: int
    state: str
    phase: str
    done: int
    total: int
    file_name: str
    started_by: str
    started_at: float
    alive_until: float
    finished_at: float | None = None
    result: str | None = None  # JSON: the summary's counts, the problems, or the error

    def shown_state(self, now: float) -> str:
        """``running`` only while the worker's last promise of life holds."""
        if self.state == RUNNING and now > self.alive_until:
            return INTERRUPTED
        return self.state
