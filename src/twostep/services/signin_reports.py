"""A user's recent sign-ins, and "not me".

Recent sign-ins are the user's own audit events (every attempt, whatever its result and
interface), newest first, at most ``MAX_RECENT``: one indexed read (tenant, user, seq).

"Not me" is the user telling administrators that one of those attempts was not theirs.
Like a fraud report on a push or a call, it is never lost and never doubled: the report is
one row per audit event (a conditional insert: sent twice, even at once, it is recorded
once), and the first one only writes an admin event (``signin.report``, actor ``self``),
logs the alert line administrators watch for (``ALERT sign-in reported``) and posts the
tenant's alert webhook (``"alert": "signin_reported"``). With the tenant setting
``not_me_locks_user`` it also locks the user until an admin unlocks them (the report
comes from a page session the user already has; that session goes on, their next
sign-ins answer ``user_locked``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from twostep.domain.audit import AuditEvent, AuditQuery
from twostep.domain.entities import User
from twostep.domain.errors import AuditEventNotFound, RegistrationFirst, UserNotFound
from twostep.domain.ports.alerts import AlertSink
from twostep.domain.ports.storage import Transaction
from twostep.domain.self_service import SignInReport
from twostep.services import admin_log
from twostep.services.context import Deps
from twostep.services.lockout import FOREVER
from twostep.services.self_service import Me, registration_reason, self_actor

log = logging.getLogger("twostep.challenges")  # where fraud alerts are logged too

MAX_RECENT = 50


@dataclass(frozen=True, slots=True)
class RecentSignIn:
    event: AuditEvent
    reported: bool  # the user said "not me" about it


@dataclass(frozen=True, slots=True)
class Reported:
    event: AuditEvent
    first: bool  # this report recorded it; False: it was reported before
    locked: bool  # the user is locked for it (the tenant's not_me_locks_user)


class SignInReports:
    def __init__(self, deps: Deps, alerts: AlertSink | None = None) -> None:
        self.deps = deps
        self.alerts = alerts

    def recent(self, me: Me, limit: int = 20) -> Sequence[RecentSignIn]:
        with self.deps.storage.transaction() as tx:
            user = tx.users.by_id(me.user_id)
            if user is None or user.tenant_id != me.tenant_id:
                raise UserNotFound("this user no longer exists")
            _registered(tx, user, self.deps.clock.now())
            events = tx.audit.query(
                AuditQuery(
                    tenant_id=me.tenant_id,
                    user=user.name,
                    limit=max(1, min(limit, MAX_RECENT)),
                    newest_first=True,
                )
            )
            reported = tx.signin_reports.reported([e.event_id for e in events])
        return [RecentSignIn(e, e.event_id in reported) for e in events]

    def report(self, me: Me, event_id: str) -> Reported:
        """The user says the attempt ``event_id`` was not theirs."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tx.tenants.by_id(me.tenant_id)
            user = tx.users.by_id(me.user_id)
            if tenant is None or user is None or user.tenant_id != tenant.id:
                raise UserNotFound("this user no longer exists")
            _registered(tx, user, now)
            event = tx.signin_reports.event(tenant.id, user.name, event_id[:36])
            if event is None:
                raise AuditEventNotFound(f"no sign-in {event_id[:36]!r} of yours")
            report = SignInReport(event.event_id, tenant.id, user.id, now, me.source)
            first = tx.signin_reports.add(report)
            locks = tenant.settings.lockout.not_me_locks_user
            if first:
                if locks:
                    tx.users.lock(user.id, FOREVER)  # until an admin unlocks
                changed = {"reported": [False, True], "locked": [False, locks]}
                target = f"{user.name}/{event.event_id}"
                admin_log.record(
                    tx, self.deps, self_actor(me), tenant, "signin.report", target, changed
                )
        if first:
            self._alert(
                tenant.name, user.name, event, locks, tenant.settings.audit.alert_webhook_url
            )
        return Reported(event, first, locks)

    def _alert(self, tenant: str, user: str, event: AuditEvent, locked: bool, webhook: str) -> None:
        # The alert: administrators watch for this line, as for a fraud report.
        log.warning(
            "ALERT sign-in reported: user %r of tenant %r says the %s sign-in %s (%s via %s "
            "from %s) was not theirs%s",
            user,
            tenant,
            event.result,
            event.event_id,
            event.method or "no method",
            event.integration or event.interface,
            event.client_ip or "an address not recorded",
            " and is now locked" if locked else "",
        )
        if webhook and self.alerts is not None:
            self.alerts.send(
                webhook,
                {
                    "alert": "signin_reported",
                    "tenant": tenant,
                    "user": user,
                    "event_id": event.event_id,
                    "method": event.method,
                    "integration": event.integration,
                    "client_ip": event.client_ip,  # as the event recorded it (audit_fields)
                    "outcome": event.result,
                    "user_locked": locked,
                    "at": self.deps.clock.now(),
                },
            )


def _registered(tx: Transaction, user: User, now: float) -> None:
    """A user who must register sees nothing else first (self_service.py)."""
    tenant = tx.tenants.by_id(user.tenant_id)
    access = tenant.settings.access if tenant is not None else None
    reason = registration_reason(user, tx.methods.for_user(user.id), now, access)
    if reason is not None:
        raise RegistrationFirst(f"register a method first ({reason.value})")
