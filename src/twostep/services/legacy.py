"""Sign-ins of legacy clients: an integration flagged ``legacy`` (a mail server checking
IMAP logins), or a RADIUS client in ``password_only`` mode. They send one password and can
ask for nothing more, so:

1. an app password of the user (where the tenant allows them) is accepted in place of
   password + second factor;
2. otherwise the password is checked as the primary password (the directory bind, or the
   local one): wrong is ``invalid_password`` (a lockout count); right, for a user without
   two-step verification (MFA ``disabled``), is ``accept``; right, for a user who must use
   it, is ``two_step_required_for_legacy_client`` with a message saying what to do (Azure
   MFA Server's 0x800434D4L case).

A locked or disabled user is refused before anything is checked.
"""

from __future__ import annotations

from dataclasses import replace

from twostep.domain.audit import AuditEvent
from twostep.domain.entities import MfaState
from twostep.domain.ports.storage import Storage
from twostep.domain.ports.subjects import Subject
from twostep.domain.ports.users import PrimaryPasswords, Verdict
from twostep.domain.results import Decision, Reason, Result
from twostep.services import outcome
from twostep.services.app_passwords import AppPasswordCheck
from twostep.services.challenges import decided
from twostep.services.outcome import EndingWork

APP_PASSWORD = "app_password"  # noqa: S105 - the audit event's method, not a password
WHEN_ALLOWED = (
    "This client cannot ask for your second factor: create an app password for it and "
    "use that instead of your password"
)
WHEN_FORBIDDEN = (
    "This client cannot ask for your second factor, and app passwords are not allowed: "
    "use an app or client that supports two-step verification"
)


class LegacySignIn:
    def __init__(
        self,
        storage: Storage[EndingWork],
        primary: PrimaryPasswords,
        app_passwords: AppPasswordCheck,
    ) -> None:
        self.storage = storage
        self.primary = primary
        self.app_passwords = app_passwords

    def sign_in(self, subject: Subject, event: AuditEvent, password: str, now: float) -> Decision:
        user, tenant = subject.user, subject.tenant
        if user is not None and user.is_locked(now):
            locked = Decision(Result.REJECT, Reason.USER_LOCKED)
            return outcome.audited(self.storage, subject, event, locked)
        allowed = tenant.settings.access.app_passwords_allowed
        if allowed:
            found = self.app_passwords.find(user, password, now)
            if found is not None and user is not None:
                named = "device" in tenant.settings.audit.audit_fields
                event = replace(event, method=APP_PASSWORD, device=found.name if named else None)
                return self._accept(subject, event, Decision(Result.ACCEPT))
        check = self.primary.check(tenant, user, subject.password_hash, password)
        if check.verdict is Verdict.UNAVAILABLE:
            return outcome.unavailable(self.storage, subject, event, check)
        if check.verdict is not Verdict.MATCH or user is None:
            return outcome.wrong_password(self.storage, subject, event, now)
        if user.mfa is MfaState.DISABLED:
            return self._accept(subject, event, Decision(Result.ACCEPT, Reason.MFA_NOT_REQUIRED))
        decision = Decision(
            Result.REJECT,
            Reason.TWO_STEP_REQUIRED_FOR_LEGACY_CLIENT,
            message=WHEN_ALLOWED if allowed else WHEN_FORBIDDEN,
        )
        return outcome.audited(self.storage, subject, event, decision)

    def _accept(self, subject: Subject, event: AuditEvent, decision: Decision) -> Decision:
        user = subject.user
        assert user is not None
        with self.storage.transaction(write=True) as tx:
            if user.failed_count and not tx.users.reset_failures_unless_locked(user.id, event.at):
                decision = Decision(Result.REJECT, Reason.USER_LOCKED)  # locked meanwhile
            tx.audit.add(subject.tenant.id, decided(event, decision))
        return decision
