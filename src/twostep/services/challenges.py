"""Challenges: pending out-of-band verifications, whatever delivers them (a text, a call,
an email, a push): their one decided answer, their outcome, their audit events, their
expiry. The lifecycle is open (``admit``), deliver (the kind's service: phone_challenges.py,
push.py), decide (here).

A challenge lives in the database, so any node can finish one another node started.
Exactly one answer decides it: every answer is one conditional update on the pending row
(see ChallengeRepo), and the first to win decides. Every other answer, on any node, is
told that final outcome and audited once as a replay ("answered again", or "answered late"
after an expiry). One exception keeps a security signal: a fraud report that comes after
the decision leaves the outcome as it is, but is recorded once, alerted once and locks the
user. Every answer writes exactly one audit event. A started challenge counts as a failure
until it is answered, so challenges triggered and never answered add up to the lockout.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from twostep.domain.audit import AuditEvent
from twostep.domain.challenges import Challenge, ChallengeState, Parties
from twostep.domain.delivery import Channel
from twostep.domain.entities import Integration, Method, Tenant, User
from twostep.domain.errors import TransactionNotFound
from twostep.domain.ports.alerts import AlertSink
from twostep.domain.ports.audit import AuditSink
from twostep.domain.ports.challenges import ChallengeRepo, Waits
from twostep.domain.ports.storage import Storage
from twostep.domain.ports.users import Lockout
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.factors import registry
from twostep.services.audit import new_event
from twostep.services.context import Deps
from twostep.services.lockout import FOREVER, count_failure

if TYPE_CHECKING:
    from twostep.services.fraud_mail import FraudMail

log = logging.getLogger("twostep.challenges")

ANSWERED_AGAIN = "answered again"  # the audit detail of an answer to a decided challenge
ANSWERED_LATE = "answered late"  # ... and of one to a challenge that had expired
PURGE_AFTER = 86400  # finished challenges are kept a day (to audit late replies), then go

_TRANSACTION_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")


class LedgerWork(Protocol):
    """The unit of work of deciding challenges: the challenges, the users' lockout, the
    audit log."""

    @property
    def challenges(self) -> ChallengeRepo: ...

    @property
    def users(self) -> Lockout: ...

    @property
    def audit(self) -> AuditSink: ...


# One answer's conditional update, in the answer's write transaction: the decision when it
# won, None when the challenge was no longer open to it.
Claim = Callable[[LedgerWork], Decision | None]


@dataclass(frozen=True, slots=True)
class StartRequest:
    """What the sign-in hands over when the method is out of band."""

    tenant: Tenant
    user: User
    method: Method
    event: AuditEvent  # the sign-in's event, method and device filled in
    methods: tuple[str, ...]  # the user's methods, listed in the answer
    # The sign-in can show the user something after the challenge starts: the push number to
    # type, a field for a texted code. False for RADIUS clients without challenges.
    can_prompt: bool = True


def outcome_of(challenge: Challenge) -> Decision:
    """The challenge's outcome as the integration hears it."""
    if challenge.state is ChallengeState.ACCEPTED:
        return Decision(Result.ACCEPT, transaction_id=challenge.id)
    if challenge.state is ChallengeState.REJECTED:
        reason = Reason(challenge.reason) if challenge.reason else Reason.INVALID_CODE
        return Decision(Result.REJECT, reason, transaction_id=challenge.id)
    return Decision(Result.CHALLENGE, transaction_id=challenge.id)


class ChallengeService:
    def __init__(
        self,
        deps: Deps,
        alerts: AlertSink | None = None,
        waits: Waits | None = None,
        mail: FraudMail | None = None,
    ) -> None:
        self.deps = deps
        self.storage: Storage[LedgerWork] = deps.storage
        self.alerts = alerts
        self.waits = waits  # told of every decision here: its waiters wake at once
        self.mail = mail  # fraud reports emailed to the tenant's fraud_notify_emails

    # -- finding one -------------------------------------------------------------------

    def find(self, challenge_id: str) -> Parties | None:
        """The challenge with its tenant and user, in one read; None for an id this server
        never issued (checked before any lookup: a forged id may hold any octet)."""
        if not is_transaction_id(challenge_id):
            return None
        with self.storage.transaction() as tx:
            return tx.challenges.with_parties(challenge_id)

    def load(self, integration: Integration, challenge_id: str) -> Parties:
        """The integration's own challenge; another tenant's is as unknown as a made-up id."""
        found = self.find(challenge_id)
        if found is None or found.tenant.id != integration.tenant_id:
            raise TransactionNotFound(f"no transaction {challenge_id[:64]!r}")
        return found

    # -- the integration learns the outcome --------------------------------------------

    def outcome(self, integration: Integration, challenge_id: str) -> tuple[Decision, float]:
        """The challenge's result now, and when it expires (for long-poll waiters)."""
        now = self.deps.clock.now()
        parties = self.load(integration, challenge_id)
        challenge = parties.challenge
        if challenge.state is ChallengeState.PENDING and challenge.expired(now):
            self.close(parties, Reason.TIMEOUT, now)
            challenge = replace(
                challenge, state=ChallengeState.REJECTED, reason=Reason.TIMEOUT.value
            )
        return outcome_of(challenge), challenge.expires_at

    def time_out(self, integration: Integration, challenge_id: str) -> Decision:
        """A client stopped waiting for this challenge (its wait is up): rejected as a
        timeout now, so a later answer cannot contradict what the client is told. An answer
        that won in the meantime stands: its outcome is what the client hears."""
        parties = self.load(integration, challenge_id)
        if self.close(parties, Reason.TIMEOUT, self.deps.clock.now()):
            return Decision(Result.REJECT, Reason.TIMEOUT, transaction_id=challenge_id)
        return self.outcome(integration, challenge_id)[0]

    # -- answers: the first to win the conditional update decides ------------------------

    def approve(self, parties: Parties, now: float, *, attempt: bool) -> Decision:
        """A right answer: a matching code (``attempt``: it counts against the budget), an
        approval on the device, "#" in the call."""
        challenge, user = parties.challenge, parties.user

        def claim(tx: LedgerWork) -> Decision | None:
            if not tx.challenges.accept(challenge.id, now, attempt=attempt):
                return None
            tx.users.reset_failures_unless_locked(user.id, now)
            return Decision(Result.ACCEPT, transaction_id=challenge.id)

        return self._settle(parties, now, claim)

    def wrong(self, parties: Parties, now: float, reason: Reason) -> Decision:
        """A wrong code: one attempt spent and one failure toward the lockout; the attempt
        that spends the budget decides the challenge (``too_many_attempts``)."""
        challenge_id = parties.challenge.id

        def claim(tx: LedgerWork) -> Decision | None:
            after = tx.challenges.fail_attempt(challenge_id, now)
            if after is None:
                return None
            count_failure(tx, parties.user, now, parties.tenant.settings)
            if after.state is ChallengeState.PENDING:  # wrong, with tries left: undecided
                return Decision(Result.REJECT, reason, transaction_id=challenge_id)
            return Decision(Result.REJECT, Reason.TOO_MANY_ATTEMPTS, transaction_id=challenge_id)

        return self._settle(parties, now, claim)

    def refuse(
        self, parties: Parties, now: float, reason: Reason, *, counts: bool = False
    ) -> Decision:
        """An answer that rejects: a denial, a wrong number or PIN, a bad signature, a call
        left without "#". ``counts``: also one failure toward the lockout."""
        challenge_id = parties.challenge.id

        def claim(tx: LedgerWork) -> Decision | None:
            if not tx.challenges.decide(challenge_id, ChallengeState.REJECTED, reason.value, now):
                return None
            if counts:
                count_failure(tx, parties.user, now, parties.tenant.settings)
            return Decision(Result.REJECT, reason, transaction_id=challenge_id)

        return self._settle(parties, now, claim)

    def fraud(self, parties: Parties, now: float, where: str = "in a phone call") -> Decision:
        """ "This wasn't me". It decides a pending challenge like any answer; one that comes
        after the decision (an approval won the race, or the request was denied or expired)
        leaves the outcome as it is but is never lost: recorded once, alerted once, and the
        user locked for the next sign-ins. A report sent again is a replay. A tenant that
        turned fraud reports off (fraud_alert_enabled) hears a plain denial instead."""
        if not parties.tenant.settings.lockout.fraud_alert_enabled:
            return self.refuse(parties, now, Reason.DENIED)
        challenge_id = parties.challenge.id

        def claim(tx: LedgerWork) -> Decision | None:
            if not tx.challenges.decide(
                challenge_id, ChallengeState.REJECTED, Reason.FRAUD_REPORTED.value, now
            ):
                return None
            return Decision(Result.REJECT, Reason.FRAUD_REPORTED, transaction_id=challenge_id)

        return self._settle(parties, now, claim, fraud=where)

    def _settle(
        self, parties: Parties, now: float, claim: Claim, *, fraud: str | None = None
    ) -> Decision:
        """One answer, in one write transaction: ``claim`` is its conditional update. If it
        wins, this answer decides and its event records the decision. If it loses, the
        answer is told the challenge's final outcome and audited once: as a replay
        ("answered again"), as late ("answered late") or, for a fraud report, as the report
        it still is. Never two events for one answer, never an answer without one."""
        challenge_id = parties.challenge.id
        event = self.event(parties, now)
        reported: Decision | None = None  # the outcome a fraud report was recorded against
        with self.storage.transaction(write=True) as tx:
            decision = claim(tx)
            if decision is not None:
                tx.audit.add(parties.tenant.id, decided(event, decision))
                outcome = decision
                if fraud is not None:
                    tx.challenges.report(challenge_id, now)
                    reported = decision
                    self._lock_for_fraud(tx, parties, now)
            else:
                outcome, mine = self._final(tx, parties, now)
                if mine:  # the user was locked meanwhile: this answer rejects for that
                    tx.audit.add(parties.tenant.id, decided(event, outcome))
                elif fraud is not None and tx.challenges.report(challenge_id, now):
                    reported = outcome
                    self._lock_for_fraud(tx, parties, now)
                    record = Decision(Result.REJECT, Reason.FRAUD_REPORTED)
                    tx.audit.add(parties.tenant.id, decided(event, record, _after_what(outcome)))
                else:
                    late = outcome.reason is Reason.TIMEOUT
                    reason = Reason.TIMEOUT if late else Reason.CODE_REPLAYED
                    detail = ANSWERED_LATE if late else ANSWERED_AGAIN
                    tx.audit.add(
                        parties.tenant.id, decided(event, Decision(Result.REJECT, reason), detail)
                    )
        self._notify(challenge_id)
        if reported is not None and fraud is not None:
            self._alert(parties, now, fraud, reported)
        return outcome

    def _final(self, tx: LedgerWork, parties: Parties, now: float) -> tuple[Decision, bool]:
        """The outcome after an answer's update lost. A challenge still pending lost it to
        its expiry or to its user's lock: that is decided now (the expiry audited as the
        sweep would). True when this answer is the one that rejected it (the lock)."""
        challenge_id = parties.challenge.id
        current = tx.challenges.get(challenge_id)
        if current is None:  # purged a day after it finished
            raise TransactionNotFound(f"no transaction {challenge_id!r}")
        if current.state is ChallengeState.PENDING:
            if current.expired(now):
                reason = Reason.TIMEOUT
            elif tx.users.locked(parties.user.id, now):
                reason = Reason.USER_LOCKED
            else:  # the budget is spent (an approval that counts as an attempt)
                reason = Reason.TOO_MANY_ATTEMPTS
            if tx.challenges.finish(challenge_id, ChallengeState.REJECTED, reason.value, now):
                decision = Decision(Result.REJECT, reason, transaction_id=challenge_id)
                if reason is not Reason.USER_LOCKED:
                    tx.audit.add(parties.tenant.id, decided(self.event(parties, now), decision))
                return decision, reason is Reason.USER_LOCKED
            current = tx.challenges.get(challenge_id) or current  # decided meanwhile
        return outcome_of(current), False

    def _lock_for_fraud(self, tx: LedgerWork, parties: Parties, now: float) -> None:
        until = fraud_block_until(parties.tenant.settings, now)
        if until is not None:
            tx.users.lock(parties.user.id, until)

    def _notify(self, challenge_id: str) -> None:
        if self.waits is not None:
            self.waits.notify(challenge_id)

    def _alert(self, parties: Parties, now: float, where: str, outcome: Decision) -> None:
        challenge, tenant, user = parties.challenge, parties.tenant, parties.user
        settings = tenant.settings
        blocks = settings.lockout.fraud_blocks_user
        after = "" if outcome.reason is Reason.FRAUD_REPORTED else f" {_after_what(outcome)}"
        # The alert: administrators watch for this line (and the audit API's fraud_reported).
        log.warning(
            "ALERT fraud reported: user %r of tenant %r denied a sign-in %s%s%s",
            user.name,
            tenant.name,
            where,
            after,
            " and is now locked" if blocks else "",
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
                    "user_locked": blocks,
                    # The sign-in's outcome: "accept" when the report came after an approval.
                    "outcome": outcome.result.value,
                    "at": now,
                },
            )
        if self.mail is not None:
            self.mail.send(parties, where, after.strip(), fraud_block_until(settings, now), now)

    # -- what no answer decides: expiry, call progress, a client that stopped waiting ----

    def close(self, parties: Parties, reason: Reason, now: float) -> bool:
        """Reject a pending challenge for ``reason`` (it expired; the call ended unanswered)
        and audit it, if this node did; False (and nothing written) if it was decided."""
        challenge_id = parties.challenge.id
        decision = Decision(Result.REJECT, reason, transaction_id=challenge_id)
        with self.storage.transaction(write=True) as tx:
            if not tx.challenges.finish(challenge_id, ChallengeState.REJECTED, reason.value, now):
                return False
            tx.audit.add(parties.tenant.id, decided(self.event(parties, now), decision))
        self._notify(challenge_id)
        return True

    def expire_overdue(self, limit: int = 100) -> int:
        """Reject (and audit) challenges nobody answered in time; returns how many."""
        now = self.deps.clock.now()
        with self.storage.transaction() as tx:
            overdue = tx.challenges.overdue(now, limit)
        with self.storage.transaction(write=True) as tx:
            tx.challenges.purge(now - PURGE_AFTER)
        return sum(1 for parties in overdue if self.close(parties, Reason.TIMEOUT, now))

    # -- the audit ---------------------------------------------------------------------

    def audit_decision(
        self, tenant_id: int, event: AuditEvent, decision: Decision, detail: str | None = None
    ) -> None:
        with self.storage.transaction(write=True) as tx:
            tx.audit.add(tenant_id, decided(event, decision, detail))

    def event(self, parties: Parties, now: float) -> AuditEvent:
        """An event of this challenge's sign-in, before its result."""
        challenge, tenant, user = parties.challenge, parties.tenant, parties.user
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
            request_id=self.deps.request_ids.current(),
            method=challenge.kind.value,
        )
        wanted = tenant.settings.audit.audit_fields
        return replace(
            event,
            phone=audited_phone(_channel_of(challenge), challenge.destination, tenant.settings),
            device=challenge.method_id if "device" in wanted else None,
        )


def admit(
    tx: LedgerWork,
    request: StartRequest,
    event: AuditEvent,
    refused: str | None,
    challenge: Challenge,
    now: float,
) -> Decision | None:
    """The opening of every challenge, in its write transaction: refused by a limit
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


def fraud_block_until(settings: TenantSettings, now: float) -> float | None:
    """The block a fraud report sets, which an admin's unlock ends: fraud_block_seconds
    long (90 days, as MFA Server), or until unlocked when that is 0; None when reports do
    not block (fraud_blocks_user off)."""
    rules = settings.lockout
    if not rules.fraud_blocks_user:
        return None
    return now + rules.fraud_block_seconds if rules.fraud_block_seconds else FOREVER


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
