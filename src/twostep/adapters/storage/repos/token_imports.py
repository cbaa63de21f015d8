"""Token import jobs (domain/ports/token_imports.py): every change to a running job is a
conditional update on its state and its promise of life, so a job once shown interrupted
never comes back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, case, delete, select, update

from twostep.adapters.storage.tables import token_import_jobs
from twostep.domain.token_imports import INTERRUPTED, RUNNING, ImportJob

_j = token_import_jobs.c
_NAMES = tuple(column.name for column in token_import_jobs.c)


def _job(row: Any) -> ImportJob:
    return ImportJob(**{name: getattr(row, name) for name in _NAMES})


class SqlImportJobRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, job: ImportJob) -> None:
        self.conn.execute(token_import_jobs.insert().values(**asdict(job)))

    def find(self, job_id: str) -> ImportJob | None:
        row = self.conn.execute(select(token_import_jobs).where(_j.id == job_id)).first()
        return None if row is None else _job(row)

    def running(self, tenant_id: int) -> ImportJob | None:
        row = self.conn.execute(
            select(token_import_jobs).where(_j.tenant_id == tenant_id, _j.state == RUNNING)
        ).first()
        return None if row is None else _job(row)

    def _alive(self, job_id: str, now: float) -> Any:
        return update(token_import_jobs).where(
            _j.id == job_id, _j.state == RUNNING, _j.alive_until >= now
        )

    def progress(
        self, job_id: str, phase: str, done: int, total: int, now: float, alive_until: float
    ) -> bool:
        changed = self.conn.execute(
            self._alive(job_id, now).values(
                phase=phase,
                done=done,
                total=total,
                alive_until=_later(alive_until),
            )
        )
        return changed.rowcount == 1

    def finish(self, job_id: str, state: str, result: str, now: float) -> bool:
        changed = self.conn.execute(
            self._alive(job_id, now).values(state=state, result=result, finished_at=now)
        )
        return changed.rowcount == 1

    def interrupt(self, job_id: str, now: float) -> None:
        self.conn.execute(
            update(token_import_jobs)
            .where(_j.id == job_id, _j.state == RUNNING, _j.alive_until < now)
            .values(state=INTERRUPTED, finished_at=now)
        )

    def prune(self, tenant_id: int, keep: int) -> int:
        kept = (
            select(_j.id)
            .where(_j.tenant_id == tenant_id)
            .order_by(_j.started_at.desc(), _j.id.desc())
            .limit(keep)
        )
        gone = self.conn.execute(
            delete(token_import_jobs).where(
                _j.tenant_id == tenant_id, _j.state != RUNNING, _j.id.not_in(kept)
            )
        )
        return int(gone.rowcount)

    def recent(self, tenant_id: int, limit: int) -> Sequence[ImportJob]:
        rows = self.conn.execute(
            select(token_import_jobs)
            .where(_j.tenant_id == tenant_id)
            .order_by(_j.started_at.desc(), _j.id.desc())
            .limit(limit)
        )
        return [_job(row) for row in rows]


def _later(alive_until: float) -> Any:
    """The promise moves out, never back: a storing phase's long promise is kept by the
    heartbeats that follow it."""
    return case((_j.alive_until < alive_until, alive_until), else_=_j.alive_until)
