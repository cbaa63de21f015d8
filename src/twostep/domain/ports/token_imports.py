"""The token import jobs' store (domain/token_imports.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.token_imports import ImportJob


class ImportJobRepo(Protocol):
    def add(self, job: ImportJob) -> None:
        """A new running job; a second running job of the tenant is refused by the
        database (the storage answers Conflict)."""
        ...

    def find(self, job_id: str) -> ImportJob | None: ...

    def running(self, tenant_id: int) -> ImportJob | None:
        """The tenant's job stored as running (its worker may be gone: see shown_state)."""
        ...

    def progress(
        self, job_id: str, phase: str, done: int, total: int, now: float, alive_until: float
    ) -> bool:
        """Save where a running job stands and push its promise of life out to
        ``alive_until`` (never back); False, and nothing saved, when it is no longer
        running or its promise had already lapsed at ``now``."""
        ...

    def finish(self, job_id: str, state: str, result: str, now: float) -> bool:
        """Record how a running job ended; False, and nothing saved, when it is no longer
        running or its promise had lapsed at ``now`` (it is shown interrupted)."""
        ...

    def interrupt(self, job_id: str, now: float) -> None:
        """A running job whose promise has lapsed is recorded as interrupted."""
        ...

    def prune(self, tenant_id: int, keep: int) -> int:
        """Delete the tenant's ended jobs but the ``keep`` newest; how many went."""
        ...

    def recent(self, tenant_id: int, limit: int) -> Sequence[ImportJob]:
        """The tenant's newest jobs, newest first."""
        ...
