"""Challenges: pending out-of-band verifications, whatever delivers them (a text, a call,
a push) — their outcome, one decided answer each, their audit events, their expiry.

A challenge lives in the database, so any node can finish one another node started.
Every step that decides is a conditional update on the pending row (see ChallengeRepo),
and every decision writes one audit event. A started challenge counts as a failure until
it is answered, so challenges triggered and never answered add up to the lockout.
Phone specifics live in phone_challenges.py, push specifics in push.py.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace

from twostep.domain.audit import AuditEvent
from twostep.domain.challenges import Challenge, ChallengeState
from twostep.domain.entities import Integration, Method, Tenant, User
from twostep.domain.errors import (
    TransactionNotFound,
)
from twostep.domain.ports import AlertSink, Transaction
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.services.audit import new_event
from twostep.services.context import Deps
from twostep.services.lockout import FOREVER, count_failure

log = logging.getLogger("twostep.challenges")

CODE_PROMPT_SECONDS = 120  # a RADIUS State asking for a code lives this long


@dataclass(frozen=True, slots=True)
class StartRequest:
    """What the validate use case hands over when the method is out of band."""

    tenant: Tenant
    user: User
    method: Method
    event: AuditEvent  # the validation's event, method and device filled in
    methods: tuple[str, ...]  # the user's methods, listed in the answer
    # The sign-in can show the user something after the challenge starts: the push number to
    # type, a field for a texted code. False for RADIUS clients without challenges.
    can_prompt: bool = True


def _result(challenge: Challenge) -> Decision:
    if challenge.state is ChallengeState.ACCEPTED:
        return Decision(Result.ACCEPT, transaction_id=challenge.id)
    if challenge.state is ChallengeState.REJECTED:
        reason = Reason(challenge.reason) if challenge.reason else Reason.INVALID_CODE
        return Decision(Result.REJECT, reason, transaction_id=challenge.id)
    return Decision(Result.CHALLENGE, transaction_id=challenge.id)


class ChallengeService:
    def __init__(self, deps: Deps, alerts: AlertSink | None = None) -> None:
        self.deps = deps
        self.alerts = alerts

    def prompt_code(self, request: StartRequest, timeout: int = CODE_PROMPT_SECONDS) -> Decision:
        """RADIUS challenge mode for a code method: a single-use State, bound to the user and
        the client, that the next Access-Request answers with the code."""
        now = self.deps.clock.now()
        challenge_id = secrets.token_urlsafe(24)
        decision = Decision(
            Result.CHALLENGE,
            transaction_id=challenge_id,
            methods=request.methods,
            prompt="Enter your verification code",
        )
        with self.deps.storage.transaction(write=True) as tx:
            tx.challenges.add(
                Challenge(
                    id=challenge_id,
                    tenant_id=request.tenant.id,
                    user_id=request.user.id,
                    method_id=request.method.id,
                    kind=request.method.kind,
                    state=ChallengeState.PENDING,
                    max_attempts=1,
                    created_at=now,
                    expires_at=now + timeout,
                    last_sent_at=now,
                    interface=request.event.interface,
                    integration=request.event.integration,
                    client_ip=request.event.client_ip,
                )
            )
            tx.audit.add(request.tenant.id, decided(request.event, decision))
        return decision

    def bound(
        self, integration: Integration, challenge_id: str, user_name: str
    ) -> Challenge | None:
        """The challenge a RADIUS State names, if it was issued to this client for this user."""
        with self.deps.storage.transaction() as tx:
            challenge = tx.challenges.get(challenge_id[:64])
            if (
                challenge is None
                or challenge.tenant_id != integration.tenant_id
                or challenge.integration != integration.name
            ):
                return None
            user = tx.users.by_name(integration.tenant_id, user_name)
        return challenge if user is not None and user.id == challenge.user_id else None

    def spend(self, challenge: Challenge, now: float | None = None) -> bool:
        """Use up a pending State (single use): False if it was used or has expired."""
        when = self.deps.clock.now() if now is None else now
        if challenge.expired(when):
            return False
        with self.deps.storage.transaction(write=True) as tx:
            return tx.challenges.finish(
                challenge.id, ChallengeState.REJECTED, Reason.SUPERSEDED.value, when
            )

    # -- the integration learns the outcome --------------------------------------------

    def outcome(self, integration: Integration, challenge_id: str) -> tuple[Decision, float]:
        """The challenge's result now, and when it expires (for long-poll waiters)."""
        now = self.deps.clock.now()
        challenge, tenant, user = self.load(integration, challenge_id)
        if challenge.state is ChallengeState.PENDING and challenge.expired(now):
            self.expire(challenge, tenant, user, now)
            challenge = replace(
                challenge, state=ChallengeState.REJECTED, reason=Reason.TIMEOUT.value
            )
        return _result(challenge), challenge.expires_at

    # -- the expiry sweep --------------------------------------------------------------

    def expire_overdue(self, limit: int = 100) -> int:
        """Reject (and audit) challenges nobody answered in time; returns how many."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            overdue = tx.challenges.overdue(now, limit)
            found = [
                (ch, tx.tenants.by_id(ch.tenant_id), tx.users.by_id(ch.user_id)) for ch in overdue
            ]
        # Finished challenges are kept a day (to audit late replies), then go.
        with self.deps.storage.transaction(write=True) as tx:
            tx.challenges.purge(now - 86400)
        done = 0
        for challenge, tenant, user in found:
            if (
                tenant is not None
                and user is not None
                and self.expire(challenge, tenant, user, now)
            ):
                done += 1
        return done

    # -- internals ---------------------------------------------------------------------

    def load(self, integration: Integration, challenge_id: str) -> tuple[Challenge, Tenant, User]:
        with self.deps.storage.transaction() as tx:
            challenge = tx.challenges.get(challenge_id[:64])
            if challenge is not None and challenge.tenant_id == integration.tenant_id:
                tenant = tx.tenants.by_id(challenge.tenant_id)
                user = tx.users.by_id(challenge.user_id)
                if tenant is not None and user is not None:
                    return challenge, tenant, user
        # Same answer for another tenant's transaction: ids do not leak across tenants.
        raise TransactionNotFound(f"no transaction {challenge_id[:64]!r}")

    def answer(
        self,
        challenge: Challenge,
        tenant: Tenant,
        user: User,
        matches: bool,
        now: float,
        wrong: Reason,
        *,
        count: bool = True,
    ) -> Decision:
        """Decide one answer to a pending challenge, in one write transaction."""
        settings = tenant.settings
        event = self.event(challenge, tenant, user, now)
        with self.deps.storage.transaction(write=True) as tx:
            if challenge.state is not ChallengeState.PENDING:
                decision = spent(challenge)
            elif challenge.expired(now):
                tx.challenges.finish(
                    challenge.id, ChallengeState.REJECTED, Reason.TIMEOUT.value, now
                )
                decision = Decision(Result.REJECT, Reason.TIMEOUT, transaction_id=challenge.id)
            elif tx.users.locked(user.id, now):
                tx.challenges.finish(
                    challenge.id, ChallengeState.REJECTED, Reason.USER_LOCKED.value, now
                )
                decision = Decision(Result.REJECT, Reason.USER_LOCKED, transaction_id=challenge.id)
            elif matches and tx.challenges.accept(challenge.id, now, attempt=count):
                tx.users.reset_failures_unless_locked(user.id, now)
                decision = Decision(Result.ACCEPT, transaction_id=challenge.id)
            elif matches and tx.users.locked(user.id, now):  # locked by a racing failure
                decision = Decision(Result.REJECT, Reason.USER_LOCKED, transaction_id=challenge.id)
            elif matches:  # another node decided first, or the budget ran out meanwhile
                current = tx.challenges.get(challenge.id)
                decision = spent(current or challenge)
            else:
                after = tx.challenges.fail_attempt(challenge.id, now)
                reason = wrong if after is not None else Reason.TOO_MANY_ATTEMPTS
                decision = Decision(Result.REJECT, reason, transaction_id=challenge.id)
            if decision.result is Result.REJECT and decision.reason is not Reason.USER_LOCKED:
                count_failure(tx, user, now, settings)
            tx.audit.add(tenant.id, decided(event, decision))
        return decision

    def expire(self, challenge: Challenge, tenant: Tenant, user: User, now: float) -> bool:
        return self.close(challenge, tenant, user, Reason.TIMEOUT, now)

    def close(
        self,
        challenge: Challenge,
        tenant: Tenant,
        user: User,
        reason: Reason,
        now: float,
        *,
        spent: bool = False,
    ) -> bool:
        """Reject a pending challenge for ``reason``; audit it if this node did."""
        decision = Decision(Result.REJECT, reason, transaction_id=challenge.id)
        with self.deps.storage.transaction(write=True) as tx:
            if not tx.challenges.finish(challenge.id, ChallengeState.REJECTED, reason.value, now):
                return False
            if spent:
                count_failure(tx, user, now, tenant.settings)
            tx.audit.add(tenant.id, decided(self.event(challenge, tenant, user, now), decision))
        return True

    def fraud(
        self,
        challenge: Challenge,
        tenant: Tenant,
        user: User,
        now: float,
        where: str = "in a phone call",
    ) -> None:
        decision = Decision(Result.REJECT, Reason.FRAUD_REPORTED, transaction_id=challenge.id)
        with self.deps.storage.transaction(write=True) as tx:
            tx.challenges.finish(
                challenge.id, ChallengeState.REJECTED, Reason.FRAUD_REPORTED.value, now
            )
            if tenant.settings.fraud_blocks_user:
                tx.users.lock(user.id, FOREVER)  # until an admin unlocks
            tx.audit.add(tenant.id, decided(self.event(challenge, tenant, user, now), decision))
        # The alert: administrators watch for this line (and the audit API's fraud_reported).
        log.warning(
            "ALERT fraud reported: user %r of tenant %r denied a sign-in %s%s",
            user.name,
            tenant.name,
            where,
            " and is now locked" if tenant.settings.fraud_blocks_user else "",
        )
        if tenant.settings.alert_webhook_url and self.alerts is not None:
            self.alerts.send(
                tenant.settings.alert_webhook_url,
                {
                    "alert": "fraud_reported",
                    "tenant": tenant.name,
                    "user": user.name,
                    "method": challenge.kind.value,
                    "transaction_id": challenge.id,
                    "integration": challenge.integration,
                    "client_ip": (
                        challenge.client_ip if "client_ip" in tenant.settings.audit_fields else None
                    ),
                    "user_locked": tenant.settings.fraud_blocks_user,
                    "at": now,
                },
            )

    def audit_decision(
        self, tenant_id: int, event: AuditEvent, decision: Decision, detail: str | None = None
    ) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tx.audit.add(tenant_id, decided(event, decision, detail))

    def audit(
        self,
        challenge: Challenge,
        tenant: Tenant,
        user: User,
        decision: Decision,
        now: float,
        detail: str | None = None,
    ) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            event = self.event(challenge, tenant, user, now)
            tx.audit.add(tenant.id, decided(event, decision, detail))

    def event(self, challenge: Challenge, tenant: Tenant, user: User, now: float) -> AuditEvent:
        event = new_event(
            self.deps.node,
            now,
            tenant.name,
            tenant.settings,
            user.name,
            user,
            integration=challenge.integration,
            client_ip=challenge.client_ip,
            interface=challenge.interface,
            method=challenge.kind.value,
        )
        wanted = tenant.settings.audit_fields
        return replace(
            event,
            phone=audited_phone(challenge.destination, tenant.settings),
            device=challenge.method_id if "device" in wanted else None,
        )


def admit(
    tx: Transaction,
    request: StartRequest,
    event: AuditEvent,
    refused: str | None,
    challenge: Challenge,
    now: float,
) -> Decision | None:
    """The start of every challenge, in its write transaction: refused by a limit
    (``refused`` says which; audited), or admitted: the trigger counts as one failure until
    it is answered (so triggers nobody answers add up to the lockout) and the challenge is
    stored. None when admitted."""
    tenant = request.tenant
    if refused is not None:
        decision = Decision(Result.REJECT, Reason.RATE_LIMITED, methods=request.methods)
        tx.audit.add(tenant.id, decided(event, decision, refused))
        return decision
    if count_failure(tx, request.user, now, tenant.settings):
        decision = Decision(Result.REJECT, Reason.USER_LOCKED)
        tx.audit.add(tenant.id, decided(event, decision))
        return decision
    tx.challenges.add(challenge)
    return None


def decision_reason(decision: Decision) -> str | None:
    return decision.reason.value if decision.reason else None


def spent(challenge: Challenge) -> Decision:
    """The answer to a challenge that is no longer pending."""
    if challenge.state is ChallengeState.ACCEPTED:
        return Decision(Result.REJECT, Reason.CODE_REPLAYED, transaction_id=challenge.id)
    reason = Reason(challenge.reason) if challenge.reason else Reason.INVALID_CODE
    return Decision(Result.REJECT, reason, transaction_id=challenge.id)


def audited_phone(phone: str | None, settings: TenantSettings) -> str | None:
    return phone if "phone" in settings.audit_fields else None


def decided(event: AuditEvent, decision: Decision, detail: str | None = None) -> AuditEvent:
    reason = decision.reason.value if decision.reason else None
    return replace(event, result=decision.result.value, reason=reason, detail=detail)
