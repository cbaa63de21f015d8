"""Challenges: pending out-of-band verifications, whatever delivers them (a text, a call,
a push) — their outcome, one decided answer each, their audit events, their expiry.

A challenge lives in the database, so any node can finish one another node started.
Exactly one answer decides it: every answer is one conditional update on the pending row
(see ChallengeRepo), and the first to win decides. Every other answer, on any node, is
told that final outcome and audited once as a replay ("answered again", or "answered late"
after an expiry). One exception keeps a security signal: a fraud report that comes after
the decision leaves the outcome as it is, but is recorded once, alerted once and locks the
user. Every answer writes exactly one audit event. A started challenge counts as a failure
until it is answered, so challenges triggered and never answered add up to the lockout.
Phone specifics live in phone_challenges.py, push specifics in push.py.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from twostep.domain.audit import AuditEvent
from twostep.domain.challenges import Challenge, ChallengeState
from twostep.domain.delivery import Channel
from twostep.domain.entities import Integration, Method, Tenant, User
from twostep.domain.errors import (
    TransactionNotFound,
)
from twostep.domain.ports import AlertSink, Transaction
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.factors import registry
from twostep.services.audit import new_event
from twostep.services.context import Deps
from twostep.services.lockout import FOREVER, count_failure

log = logging.getLogger("twostep.challenges")

CODE_PROMPT_SECONDS = 120  # a RADIUS State asking for a code lives this long
ANSWERED_AGAIN = "answered again"  # the audit detail of an answer to a decided challenge
ANSWERED_LATE = "answered late"  # ... and of one to a challenge that had expired

_TRANSACTION_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")

# One answer's conditional update, in the answer's write transaction: the decision when it
# won, None when the challenge was no longer open to it.
Claim = Callable[[Transaction], Decision | None]


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
        challenge_id = new_transaction_id()
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

    def resume(
        self, integration: Integration, state: str, user_name: str, client_ip: str | None
    ) -> Challenge | Decision:
        """The challenge a RADIUS State names, won for this one request: a State is bound to
        the user and the client it was issued to, and single use. Otherwise the rejection,
        audited like every RADIUS decision (a forged, crossed or replayed State)."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tx.tenants.by_id(integration.tenant_id)
            if tenant is None:
                raise TransactionNotFound("no such State")
            user = tx.users.by_name(tenant.id, user_name)
            challenge = tx.challenges.get(state) if is_transaction_id(state) else None
            refused: tuple[Reason, str] | None = None
            if challenge is None or challenge.tenant_id != tenant.id:
                refused = Reason.INVALID_CODE, "RADIUS State not issued by Twostep"
            elif challenge.integration != integration.name:
                refused = Reason.INVALID_CODE, "RADIUS State issued to another client"
            elif user is None or user.id != challenge.user_id:
                refused = Reason.INVALID_CODE, "RADIUS State issued for another user"
            elif not tx.challenges.use_state(challenge.id, now):
                refused = Reason.CODE_REPLAYED, "RADIUS State used again"
            if refused is None and challenge is not None:
                return challenge
            reason, detail = refused or (Reason.INVALID_CODE, "")
            decision = Decision(Result.REJECT, reason)
            event = new_event(
                self.deps.node,
                now,
                tenant.name,
                tenant.settings,
                user_name,
                user,
                integration=integration.name,
                client_ip=client_ip,
                interface="radius",
                method=challenge.kind.value if challenge is not None else None,
            )
            tx.audit.add(tenant.id, decided(event, decision, detail))
            if user is not None and reason is Reason.INVALID_CODE:
                count_failure(tx, user, now, tenant.settings)
        log.info("refused a RADIUS State from %s: %s", integration.name, detail)
        return decision

    def state_expired(self, challenge: Challenge) -> Decision:
        """A code prompt's State came back after its 120 s: rejected and audited."""
        now = self.deps.clock.now()
        decision = Decision(Result.REJECT, Reason.TIMEOUT)
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tx.tenants.by_id(challenge.tenant_id)
            user = tx.users.by_id(challenge.user_id)
            if tenant is not None and user is not None:
                event = self.event(challenge, tenant, user, now)
                tx.audit.add(tenant.id, decided(event, decision, "RADIUS State expired"))
        return decision

    def ask_again(self, challenge_id: str) -> None:
        """The same challenge goes out once more (a push still pending): its State may come
        back once more."""
        with self.deps.storage.transaction(write=True) as tx:
            tx.challenges.release_state(challenge_id)

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
            challenge = tx.challenges.get(challenge_id) if is_transaction_id(challenge_id) else None
            if challenge is not None and challenge.tenant_id == integration.tenant_id:
                tenant = tx.tenants.by_id(challenge.tenant_id)
                user = tx.users.by_id(challenge.user_id)
                if tenant is not None and user is not None:
                    return challenge, tenant, user
        # Same answer for another tenant's transaction: ids do not leak across tenants.
        raise TransactionNotFound(f"no transaction {challenge_id[:64]!r}")

    # -- answers: the first to win the conditional update decides ------------------------

    def approve(
        self, challenge: Challenge, tenant: Tenant, user: User, now: float, *, attempt: bool
    ) -> Decision:
        """A right answer: a matching code (``attempt``: it counts against the budget), an
        approval on the device, "#" in the call."""

        def claim(tx: Transaction) -> Decision | None:
            if not tx.challenges.accept(challenge.id, now, attempt=attempt):
                return None
            tx.users.reset_failures_unless_locked(user.id, now)
            return Decision(Result.ACCEPT, transaction_id=challenge.id)

        return self._settle(challenge, tenant, user, now, claim)

    def wrong(
        self, challenge: Challenge, tenant: Tenant, user: User, now: float, reason: Reason
    ) -> Decision:
        """A wrong code: one attempt spent and one failure toward the lockout; the attempt
        that spends the budget decides the challenge (``too_many_attempts``)."""

        def claim(tx: Transaction) -> Decision | None:
            after = tx.challenges.fail_attempt(challenge.id, now)
            if after is None:
                return None
            count_failure(tx, user, now, tenant.settings)
            if after.state is ChallengeState.PENDING:  # wrong, with tries left: undecided
                return Decision(Result.REJECT, reason, transaction_id=challenge.id)
            return Decision(Result.REJECT, Reason.TOO_MANY_ATTEMPTS, transaction_id=challenge.id)

        return self._settle(challenge, tenant, user, now, claim)

    def refuse(
        self,
        challenge: Challenge,
        tenant: Tenant,
        user: User,
        now: float,
        reason: Reason,
        *,
        counts: bool = False,
    ) -> Decision:
        """An answer that rejects: a denial, a wrong number or PIN, a bad signature, a call
        left without "#". ``counts``: also one failure toward the lockout."""

        def claim(tx: Transaction) -> Decision | None:
            if not tx.challenges.decide(challenge.id, ChallengeState.REJECTED, reason.value, now):
                return None
            if counts:
                count_failure(tx, user, now, tenant.settings)
            return Decision(Result.REJECT, reason, transaction_id=challenge.id)

        return self._settle(challenge, tenant, user, now, claim)

    def fraud(
        self,
        challenge: Challenge,
        tenant: Tenant,
        user: User,
        now: float,
        where: str = "in a phone call",
    ) -> Decision:
        """ "This wasn't me". It decides a pending challenge like any answer; one that comes
        after the decision (an approval won the race, or the request was denied or expired)
        leaves the outcome as it is but is never lost: recorded once, alerted once, and the
        user locked for the next sign-ins. A report sent again is a replay."""

        def claim(tx: Transaction) -> Decision | None:
            if not tx.challenges.decide(
                challenge.id, ChallengeState.REJECTED, Reason.FRAUD_REPORTED.value, now
            ):
                return None
            return Decision(Result.REJECT, Reason.FRAUD_REPORTED, transaction_id=challenge.id)

        return self._settle(challenge, tenant, user, now, claim, fraud=where)

    def _settle(
        self,
        challenge: Challenge,
        tenant: Tenant,
        user: User,
        now: float,
        claim: Claim,
        *,
        fraud: str | None = None,
    ) -> Decision:
        """One answer, in one write transaction: ``claim`` is its conditional update. If it
        wins, this answer decides and its event records the decision. If it loses, the
        answer is told the challenge's final outcome and audited once: as a replay
        ("answered again"), as late ("answered late") or, for a fraud report, as the report
        it still is. Never two events for one answer, never an answer without one."""
        event = self.event(challenge, tenant, user, now)
        reported: Decision | None = None  # the outcome a fraud report was recorded against
        with self.deps.storage.transaction(write=True) as tx:
            decision = claim(tx)
            if decision is not None:
                tx.audit.add(tenant.id, decided(event, decision))
                if fraud is not None:
                    tx.challenges.report(challenge.id, now)
                    reported = decision
                    self._lock_for_fraud(tx, tenant, user)
                return self._after(challenge, tenant, user, now, decision, reported, fraud)
            outcome, mine = self._final(tx, challenge, tenant, user, now)
            if mine:  # the user was locked meanwhile: this answer rejects for that
                tx.audit.add(tenant.id, decided(event, outcome))
            elif fraud is not None and tx.challenges.report(challenge.id, now):
                reported = outcome
                self._lock_for_fraud(tx, tenant, user)
                record = Decision(Result.REJECT, Reason.FRAUD_REPORTED, transaction_id=challenge.id)
                tx.audit.add(tenant.id, decided(event, record, _after_what(outcome)))
            elif outcome.reason is Reason.TIMEOUT:
                late = Decision(Result.REJECT, Reason.TIMEOUT, transaction_id=challenge.id)
                tx.audit.add(tenant.id, decided(event, late, ANSWERED_LATE))
            else:
                replay = Decision(Result.REJECT, Reason.CODE_REPLAYED, transaction_id=challenge.id)
                tx.audit.add(tenant.id, decided(event, replay, ANSWERED_AGAIN))
        return self._after(challenge, tenant, user, now, outcome, reported, fraud)

    def _final(
        self, tx: Transaction, challenge: Challenge, tenant: Tenant, user: User, now: float
    ) -> tuple[Decision, bool]:
        """The outcome after an answer's update lost. A challenge still pending lost it to
        its expiry or to its user's lock: that is decided now (the expiry audited as the
        sweep would). True when this answer is the one that rejected it (the lock)."""
        current = tx.challenges.get(challenge.id)
        if current is None:  # purged a day after it finished
            raise TransactionNotFound(f"no transaction {challenge.id!r}")
        if current.state is ChallengeState.PENDING:
            if current.expired(now):
                reason = Reason.TIMEOUT
            elif tx.users.locked(user.id, now):
                reason = Reason.USER_LOCKED
            else:  # the budget is spent (an approval that counts as an attempt)
                reason = Reason.TOO_MANY_ATTEMPTS
            if tx.challenges.finish(challenge.id, ChallengeState.REJECTED, reason.value, now):
                decision = Decision(Result.REJECT, reason, transaction_id=challenge.id)
                if reason is not Reason.USER_LOCKED:
                    expiry = self.event(challenge, tenant, user, now)
                    tx.audit.add(tenant.id, decided(expiry, decision))
                return decision, reason is Reason.USER_LOCKED
            current = tx.challenges.get(challenge.id) or current  # decided meanwhile
        return _result(current), False

    def _lock_for_fraud(self, tx: Transaction, tenant: Tenant, user: User) -> None:
        if tenant.settings.lockout.fraud_blocks_user:
            tx.users.lock(user.id, FOREVER)  # until an admin unlocks

    def _after(
        self,
        challenge: Challenge,
        tenant: Tenant,
        user: User,
        now: float,
        outcome: Decision,
        reported: Decision | None,
        where: str | None,
    ) -> Decision:
        """After the commit: a fraud report recorded by this answer alerts, once."""
        if reported is not None and where is not None:
            self._alert(challenge, tenant, user, now, where, reported)
        return outcome

    def _alert(
        self,
        challenge: Challenge,
        tenant: Tenant,
        user: User,
        now: float,
        where: str,
        outcome: Decision,
    ) -> None:
        settings = tenant.settings
        after = "" if outcome.reason is Reason.FRAUD_REPORTED else f" {_after_what(outcome)}"
        # The alert: administrators watch for this line (and the audit API's fraud_reported).
        log.warning(
            "ALERT fraud reported: user %r of tenant %r denied a sign-in %s%s%s",
            user.name,
            tenant.name,
            where,
            after,
            " and is now locked" if settings.lockout.fraud_blocks_user else "",
        )
        if settings.audit.alert_webhook_url and self.alerts is not None:
            self.alerts.send(
                settings.audit.alert_webhook_url,
                {
                    "alert": "fraud_reported",
                    "tenant": tenant.name,
                    "user": user.name,
                    "method": challenge.kind.value,
                    "transaction_id": challenge.id,
                    "integration": challenge.integration,
                    "client_ip": (
                        challenge.client_ip if "client_ip" in settings.audit.audit_fields else None
                    ),
                    "user_locked": settings.lockout.fraud_blocks_user,
                    # The sign-in's outcome: "accept" when the report came after an approval.
                    "outcome": outcome.result.value,
                    "at": now,
                },
            )

    # -- what no answer decides: expiry, call progress ----------------------------------

    def expire(self, challenge: Challenge, tenant: Tenant, user: User, now: float) -> bool:
        return self.close(challenge, tenant, user, Reason.TIMEOUT, now)

    def close(
        self, challenge: Challenge, tenant: Tenant, user: User, reason: Reason, now: float
    ) -> bool:
        """Reject a pending challenge for ``reason`` (it expired; the call ended unanswered)
        and audit it, if this node did; False (and nothing written) if it was decided."""
        decision = Decision(Result.REJECT, reason, transaction_id=challenge.id)
        with self.deps.storage.transaction(write=True) as tx:
            if not tx.challenges.finish(challenge.id, ChallengeState.REJECTED, reason.value, now):
                return False
            tx.audit.add(tenant.id, decided(self.event(challenge, tenant, user, now), decision))
        return True

    def audit_decision(
        self, tenant_id: int, event: AuditEvent, decision: Decision, detail: str | None = None
    ) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tx.audit.add(tenant_id, decided(event, decision, detail))

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
        wanted = tenant.settings.audit.audit_fields
        return replace(
            event,
            phone=audited_phone(_channel_of(challenge), challenge.destination, tenant.settings),
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


def new_transaction_id() -> str:
    """192 random bits, URL-safe, never starting with "-" (so no command line takes one for
    an option: ``twostep outbox press -abc...``)."""
    while True:
        candidate = secrets.token_urlsafe(24)
        if not candidate.startswith("-"):
            return candidate


def is_transaction_id(value: str) -> bool:
    """Shaped like an id this server issues (checked before any lookup: a forged RADIUS
    State may hold NUL or any other octet)."""
    return _TRANSACTION_ID.fullmatch(value) is not None


def decision_reason(decision: Decision) -> str | None:
    return decision.reason.value if decision.reason else None


def _channel_of(challenge: Challenge) -> Channel | None:
    rules = registry.kind(challenge.kind).challenge
    return None if rules is None else rules.channel


def _after_what(outcome: Decision) -> str:
    """The audit detail of a fraud report that came after the challenge was decided."""
    if outcome.result is Result.ACCEPT:
        return "after approval"
    if outcome.reason is Reason.DENIED:
        return "after denial"
    if outcome.reason is Reason.TIMEOUT:
        return "after expiry"
    return f"after {outcome.reason.value if outcome.reason else 'rejection'}"


def audited_phone(
    channel: Channel | None, destination: str | None, settings: TenantSettings
) -> str | None:
    """The number a text or call went to, if the tenant audits phones (an email address is
    not a phone number: it is not recorded there)."""
    if channel not in (Channel.SMS, Channel.VOICE) or "phone" not in settings.audit.audit_fields:
        return None
    return destination


def decided(event: AuditEvent, decision: Decision, detail: str | None = None) -> AuditEvent:
    reason = decision.reason.value if decision.reason else None
    return replace(event, result=decision.result.value, reason=reason, detail=detail)
