"""How a sign-in ends when no code or challenge decided it: its one audit event, written
with whatever the ending needs (a failure counted for a wrong password). Shared by the
sign-in flow and the legacy clients' flow so they end alike."""

from __future__ import annotations

from typing import Protocol

from twostep.domain.audit import AuditEvent
from twostep.domain.ports.audit import AuditSink
from twostep.domain.ports.storage import Storage
from twostep.domain.ports.subjects import Subject
from twostep.domain.ports.users import Lockout, PasswordCheck
from twostep.domain.results import Decision, Reason, Result
from twostep.services.challenges import decided
from twostep.services.lockout import count_failure


class EndingWork(Protocol):
    @property
    def users(self) -> Lockout: ...

    @property
    def audit(self) -> AuditSink: ...


def audited(
    storage: Storage[EndingWork],
    subject: Subject,
    event: AuditEvent,
    decision: Decision,
    detail: str | None = None,
) -> Decision:
    with storage.transaction(write=True) as tx:
        tx.audit.add(subject.tenant.id, decided(event, decision, detail))
    return decision


def wrong_password(
    storage: Storage[EndingWork], subject: Subject, event: AuditEvent, now: float
) -> Decision:
    """A wrong (or missing) primary password: one failure toward the user's lockout."""
    decision = Decision(Result.REJECT, Reason.INVALID_PASSWORD)
    with storage.transaction(write=True) as tx:
        if subject.user is not None:
            count_failure(tx, subject.user, now, subject.tenant.settings)
        tx.audit.add(subject.tenant.id, decided(event, decision))
    return decision


def unavailable(
    storage: Storage[EndingWork], subject: Subject, event: AuditEvent, check: PasswordCheck
) -> Decision:
    """The directory that checks this password did not answer: fail closed, with the
    server's error in the audit event, and not the user's failure (no lockout count)."""
    decision = Decision(Result.REJECT, Reason.DIRECTORY_UNAVAILABLE)
    return audited(storage, subject, event, decision, check.detail)
