"""Challenges of the phone methods: start, submit, answer by text or call, outcome.

A challenge lives in the database, so any node can finish one another node started.
Every step that decides is a conditional update on the pending row (see ChallengeRepo),
and every decision writes one audit event. A started challenge counts as a failure until
it is answered, so codes triggered and never entered add up to the lockout.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote

from twostep.domain.audit import AuditEvent
from twostep.domain.challenges import Challenge, ChallengeState
from twostep.domain.delivery import (
    Channel,
    Gateway,
    InboundText,
    TextMessage,
    VoiceCall,
    WebhookAnswer,
    WebhookRequest,
)
from twostep.domain.entities import Integration, Method, MethodKind, MethodStatus, Tenant, User
from twostep.domain.errors import (
    GatewayNotFound,
    InvalidInput,
    InvalidPhoneNumber,
    NumberNotAllowed,
    RateLimited,
    ResendRefused,
    TransactionNotFound,
)
from twostep.domain.phone import check_destination, mask_phone, normalize_phone
from twostep.domain.ports import AlertSink, Transaction
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.factors import phone_text
from twostep.factors.phone import PHONE_FACTORS, PhoneFactor
from twostep.services.context import Deps, method_context
from twostep.services.delivery import Delivery, DeliveryFailed

log = logging.getLogger("twostep.challenges")

_FOREVER = 2.0**53  # a fraud lock lasts until an admin unlocks
_LATE_REPLY_SECONDS = 24 * 3600  # replies to challenges finished this recently are audited
CODE_PROMPT_SECONDS = 120  # a RADIUS State asking for a code lives this long


@dataclass(frozen=True, slots=True)
class StartRequest:
    """What the validate use case hands over when the method is out of band."""

    tenant: Tenant
    user: User
    method: Method
    event: AuditEvent  # the validation's event, method and device filled in
    methods: tuple[str, ...]  # the user's methods, listed in the answer
    number_matching: bool = True  # app_push: the sign-in shows a number to type


def _challenge_context(challenge_id: str) -> str:
    return f"challenge:{challenge_id}"


def _result(challenge: Challenge) -> Decision:
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
        delivery: Delivery,
        public_url: str,
        alerts: AlertSink | None = None,
    ) -> None:
        self.deps = deps
        self.delivery = delivery
        self.public_url = public_url.rstrip("/")
        self.alerts = alerts

    # -- start -------------------------------------------------------------------

    def start(self, request: StartRequest) -> Decision:
        now = self.deps.clock.now()
        tenant, user, method = request.tenant, request.user, request.method
        settings = tenant.settings
        factor = PHONE_FACTORS.get(method.kind)
        event = replace(request.event, phone=_audited_phone(method.phone, settings))

        def finish(decision: Decision, detail: str | None = None) -> Decision:
            # A refusal still lists the user's methods: the sign-in page offers another.
            decision = replace(decision, methods=request.methods)
            with self.deps.storage.transaction(write=True) as tx:
                tx.audit.add(tenant.id, decided(event, decision, detail))
            return decision

        if factor is None:  # app_push comes with the mobile authenticator
            return finish(Decision(Result.REJECT, Reason.METHOD_NOT_SUPPORTED))
        if method.phone is None:
            return finish(Decision(Result.REJECT, Reason.NUMBER_NOT_ALLOWED), "no phone number")
        try:
            check_destination(
                method.phone,
                texts=factor.channel is Channel.SMS,
                allowed_calling_codes=settings.allowed_calling_codes,
            )
        except NumberNotAllowed as exc:
            return finish(Decision(Result.REJECT, Reason.NUMBER_NOT_ALLOWED), exc.message)

        challenge_id = secrets.token_urlsafe(24)
        code = phone_text.new_code() if factor.channel is Channel.SMS else None
        code_hash = (
            self.deps.secrets.digest(code.encode(), _challenge_context(challenge_id))
            if code
            else None
        )
        with self.deps.storage.transaction(write=True) as tx:
            limit = tx.deliveries.reserve(
                tenant.id,
                user.id,
                factor.channel.value,
                now,
                settings.delivery_window,
                settings.user_delivery_limit,
                settings.tenant_delivery_limit,
            )
            if limit is not None:
                decision = Decision(Result.REJECT, Reason.RATE_LIMITED, methods=request.methods)
                tx.audit.add(tenant.id, decided(event, decision, f"{limit} limit reached"))
                return decision
            # Counted now, forgiven when answered: triggers nobody answers lead to lockout.
            if count_failure(tx, user, now, settings):
                decision = Decision(Result.REJECT, Reason.USER_LOCKED)
                tx.audit.add(tenant.id, decided(event, decision))
                return decision
            tx.challenges.add(
                Challenge(
                    id=challenge_id,
                    tenant_id=tenant.id,
                    user_id=user.id,
                    method_id=method.id,
                    kind=method.kind,
                    state=ChallengeState.PENDING,
                    max_attempts=settings.challenge_attempts,
                    created_at=now,
                    expires_at=now + factor.timeout(settings),
                    last_sent_at=now,
                    interface=event.interface,
                    code_hash=code_hash,
                    destination=method.phone,
                    integration=event.integration,
                    client_ip=event.client_ip,
                )
            )
        language = phone_text.language_of(user.language, settings.language)
        try:
            gateway = self._deliver(tenant, method, factor, challenge_id, code, language)
        except DeliveryFailed as exc:
            decision = Decision(
                Result.REJECT,
                Reason.DELIVERY_FAILED,
                transaction_id=challenge_id,
                methods=request.methods,
            )
            with self.deps.storage.transaction(write=True) as tx:
                tx.challenges.finish(
                    challenge_id, ChallengeState.REJECTED, decision_reason(decision), now
                )
                # The user never got it: neither their lockout count nor their limit pays.
                tx.users.forgive_failure(user.id, now)
                tx.deliveries.release(user.id, now)
                tx.audit.add(tenant.id, decided(event, decision, exc.detail))
            return decision
        prompt_key = factor.prompt
        if method.kind is MethodKind.VOICE and self._needs_pin(method, settings):
            prompt_key = "prompt_voice_pin"
        decision = Decision(
            Result.CHALLENGE,
            transaction_id=challenge_id,
            methods=request.methods,
            prompt=phone_text.words(prompt_key, language, number=mask_phone(method.phone)),
        )
        with self.deps.storage.transaction(write=True) as tx:
            tx.challenges.delivered(challenge_id, gateway)
            tx.audit.add(tenant.id, decided(event, decision, f"sent by {gateway}"))
        return decision

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

    def _deliver(
        self,
        tenant: Tenant,
        method: Method,
        factor: PhoneFactor,
        challenge_id: str,
        code: str | None,
        language: str,
    ) -> str:
        settings = tenant.settings
        assert method.phone is not None
        if factor.channel is Channel.SMS:
            assert code is not None
            body = phone_text.words(
                factor.words,
                language,
                issuer=settings.issuer,
                code=code,
                minutes=max(1, factor.timeout(settings) // 60),
            )
            message = TextMessage(
                to=method.phone,
                body=body,
                sender=settings.sms_sender or None,
                reference=challenge_id,
            )
            return self.delivery.send_text(tenant.id, message).gateway
        key = "voice_pin" if self._needs_pin(method, settings) else "voice"
        script = phone_text.words(key, language, issuer=settings.issuer)

        def call_for(gateway_id: str) -> VoiceCall:
            base = f"{self.public_url}/v1/gateways/{quote(gateway_id)}/calls?ref={challenge_id}"
            return VoiceCall(
                to=method.phone or "",
                caller_id=settings.caller_id or None,
                script=script,
                language=phone_text.voice_of(language),
                reference=challenge_id,
                max_digits=9,
                callback_url=base,
                status_url=base + "&status=1",
            )

        return self.delivery.place_call(tenant.id, call_for).gateway

    # -- the integration: submit a code, resend, learn the outcome ---------------------

    def submit(self, integration: Integration, challenge_id: str, code: str) -> Decision:
        now = self.deps.clock.now()
        challenge, tenant, user = self._load(integration, challenge_id)
        if challenge.kind is not MethodKind.SMS:
            raise InvalidInput(
                "this transaction is answered on the user's phone: wait for its outcome "
                "with GET /v1/validate/{transaction_id}",
                field="code",
            )
        typed = phone_text.normalise_code(code)
        matches = challenge.code_hash is not None and self.deps.secrets.digest_matches(
            challenge.code_hash, typed.encode(), _challenge_context(challenge.id)
        )
        return self.answer(challenge, tenant, user, matches, now, Reason.INVALID_CODE)

    def outcome(self, integration: Integration, challenge_id: str) -> tuple[Decision, float]:
        """The challenge's result now, and when it expires (for long-poll waiters)."""
        now = self.deps.clock.now()
        challenge, tenant, user = self._load(integration, challenge_id)
        if challenge.state is ChallengeState.PENDING and challenge.expired(now):
            self._expire(challenge, tenant, user, now)
            challenge = replace(
                challenge, state=ChallengeState.REJECTED, reason=Reason.TIMEOUT.value
            )
        return _result(challenge), challenge.expires_at

    def resend(self, integration: Integration, challenge_id: str) -> Decision:
        now = self.deps.clock.now()
        challenge, tenant, user = self._load(integration, challenge_id)
        factor = PHONE_FACTORS.get(challenge.kind)
        if factor is None or factor.channel is not Channel.SMS:
            raise ResendRefused("only text messages are resent; place a new call instead")
        settings = tenant.settings
        code = phone_text.new_code()
        code_hash = self.deps.secrets.digest(code.encode(), _challenge_context(challenge.id))
        with self.deps.storage.transaction(write=True) as tx:
            if not tx.challenges.resend(
                challenge.id, code_hash, now, settings.resend_interval, settings.max_sends
            ):
                raise ResendRefused(
                    f"resent too soon (wait {settings.resend_interval} s), too often "
                    f"(at most {settings.max_sends} sends), or the transaction is finished"
                )
            limit = tx.deliveries.reserve(
                tenant.id,
                user.id,
                factor.channel.value,
                now,
                settings.delivery_window,
                settings.user_delivery_limit,
                settings.tenant_delivery_limit,
            )
            if limit is not None:
                raise _rate_limited(limit)
        method = Method(
            id=challenge.method_id,
            user_id=user.id,
            kind=challenge.kind,
            status=MethodStatus.ACTIVE,
            phone=challenge.destination,
        )
        language = phone_text.language_of(user.language, settings.language)
        try:
            self._deliver(tenant, method, factor, challenge.id, code, language)
        except DeliveryFailed as exc:
            decision = Decision(Result.REJECT, Reason.DELIVERY_FAILED, transaction_id=challenge.id)
            with self.deps.storage.transaction(write=True) as tx:
                tx.challenges.finish(
                    challenge.id, ChallengeState.REJECTED, Reason.DELIVERY_FAILED.value, now
                )
                event = self.event(challenge, tenant, user, now)
                tx.audit.add(tenant.id, decided(event, decision, exc.detail))
            return decision
        return Decision(Result.CHALLENGE, transaction_id=challenge.id)

    # -- the user's phone: a text back, keys pressed in a call ------------------------

    def inbound_text(self, gateway_id: str, request: WebhookRequest) -> None:
        tenant_id, gateway = self._gateway(gateway_id)
        text = gateway.inbound_text(request)
        sender = _e164_or_none(text.sender)
        if sender is None:
            log.info("inbound text from an unreadable number ignored")
            return
        tenants = None if tenant_id is None else [tenant_id]
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            pending = tx.challenges.pending_for(tenants, sender, MethodKind.SMS_REPLY.value)
            latest = (
                None
                if pending
                else tx.challenges.latest_for(tenants, sender, MethodKind.SMS_REPLY.value)
            )
        if not pending:
            if latest is not None and now - latest.created_at < _LATE_REPLY_SECONDS:
                self._late_reply(latest, now)
            else:
                log.info("inbound text from %s matches no challenge", mask_phone(sender))
            return
        self._reply(pending, text, now)

    def call_event(self, gateway_id: str, request: WebhookRequest) -> WebhookAnswer | None:
        tenant_id, gateway = self._gateway(gateway_id)
        event = gateway.call_event(request)
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            challenge = tx.challenges.get(event.reference or "")
            if challenge is not None:
                tenant = tx.tenants.by_id(challenge.tenant_id)
                user = tx.users.by_id(challenge.user_id)
        if (
            challenge is None
            or challenge.kind is not MethodKind.VOICE
            or (tenant_id is not None and challenge.tenant_id != tenant_id)
            or tenant is None
            or user is None
        ):
            raise TransactionNotFound("no call of this gateway has this reference")
        language = phone_text.language_of(user.language, tenant.settings.language)

        def say(key: str) -> WebhookAnswer:
            return gateway.call_answer(
                phone_text.words(key, language), phone_text.voice_of(language)
            )

        if event.digits is None:  # call progress: only an unanswered end matters
            if event.status in ("no-answer", "busy", "failed", "canceled", "completed"):
                self.close(challenge, tenant, user, Reason.CALL_NOT_ANSWERED, now)
            return None
        if challenge.state is not ChallengeState.PENDING or challenge.expired(now):
            if challenge.state is ChallengeState.PENDING:
                self._expire(challenge, tenant, user, now)
            else:  # keys pressed again after the decision: audited as what it is
                self.audit(challenge, tenant, user, spent(challenge), now, "call answered again")
            return say("approved" if challenge.state is ChallengeState.ACCEPTED else "denied")
        if not event.confirmed:  # the gather timed out: silence is no approval
            self.close(challenge, tenant, user, Reason.CALL_NOT_ANSWERED, now)
            return say("denied")
        digits = event.digits.strip()
        if digits == "0":
            self.fraud(challenge, tenant, user, now)
            return say("fraud")
        pin_ok = self._pin_ok(challenge, tenant.settings, digits)
        if pin_ok is None:
            self.close(challenge, tenant, user, Reason.INVALID_CODE, now, spent=True)
            return say("denied")
        if not pin_ok:
            self.close(challenge, tenant, user, Reason.INVALID_PIN, now, spent=True)
            return say("denied")
        decision = self.answer(challenge, tenant, user, True, now, Reason.INVALID_CODE, count=False)
        return say("approved" if decision.result is Result.ACCEPT else "denied")

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
                and self._expire(challenge, tenant, user, now)
            ):
                done += 1
        return done

    # -- internals ---------------------------------------------------------------------

    def _load(self, integration: Integration, challenge_id: str) -> tuple[Challenge, Tenant, User]:
        with self.deps.storage.transaction() as tx:
            challenge = tx.challenges.get(challenge_id[:64])
            if challenge is not None and challenge.tenant_id == integration.tenant_id:
                tenant = tx.tenants.by_id(challenge.tenant_id)
                user = tx.users.by_id(challenge.user_id)
                if tenant is not None and user is not None:
                    return challenge, tenant, user
        # Same answer for another tenant's transaction: ids do not leak across tenants.
        raise TransactionNotFound(f"no transaction {challenge_id[:64]!r}")

    def _gateway(self, gateway_id: str) -> tuple[int | None, Gateway]:
        found = self.delivery.gateway(gateway_id[:64])
        if found is None:
            raise GatewayNotFound(f"no gateway {gateway_id[:64]!r}")
        return found

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

    def _reply(self, challenges: Sequence[Challenge], text: InboundText, now: float) -> None:
        """A text back: the challenge whose code it carries, else a wrong try at the newest."""
        typed = phone_text.normalise_code(text.body)
        for challenge in challenges:
            if challenge.code_hash is not None and self.deps.secrets.digest_matches(
                challenge.code_hash, typed.encode(), _challenge_context(challenge.id)
            ):
                self._decide_by_id(challenge, True, now)
                return
        self._decide_by_id(challenges[0], False, now)

    def _decide_by_id(self, challenge: Challenge, matches: bool, now: float) -> None:
        with self.deps.storage.transaction() as tx:
            tenant = tx.tenants.by_id(challenge.tenant_id)
            user = tx.users.by_id(challenge.user_id)
        if tenant is not None and user is not None:
            self.answer(challenge, tenant, user, matches, now, Reason.INVALID_CODE)

    def _late_reply(self, challenge: Challenge, now: float) -> None:
        with self.deps.storage.transaction() as tx:
            tenant = tx.tenants.by_id(challenge.tenant_id)
            user = tx.users.by_id(challenge.user_id)
        if tenant is None or user is None:
            return
        if challenge.state is ChallengeState.ACCEPTED:  # a second reply to a finished one
            self.audit(challenge, tenant, user, spent(challenge), now, "reply after approval")
            return
        decision = Decision(Result.REJECT, Reason.TIMEOUT)
        self.audit(challenge, tenant, user, decision, now, "late reply")

    def _expire(self, challenge: Challenge, tenant: Tenant, user: User, now: float) -> bool:
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
                tx.users.lock(user.id, _FOREVER)
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

    def _pin_ok(self, challenge: Challenge, settings: TenantSettings, digits: str) -> bool | None:
        """True: approve; False: wrong PIN; None: keys pressed where only # was asked."""
        with self.deps.storage.transaction() as tx:
            sealed = tx.methods.sealed_seed(challenge.method_id)
        if sealed is None:
            if settings.voice_pin_required:
                return False  # a PIN is required and this method has none set
            return True if digits == "" else None
        pin = self.deps.secrets.open(sealed, method_context(challenge.method_id))
        return secrets.compare_digest(pin, digits.encode())

    def _needs_pin(self, method: Method, settings: TenantSettings) -> bool:
        if settings.voice_pin_required:
            return True
        with self.deps.storage.transaction() as tx:
            return tx.methods.sealed_seed(method.id) is not None

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
        wanted = tenant.settings.audit_fields
        return AuditEvent(
            event_id=str(uuid.uuid4()),
            at=now,
            tenant=tenant.name,
            user=user.name,
            method=challenge.kind.value,
            result="",
            reason=None,
            integration=challenge.integration,
            server_name=self.deps.node.name,
            server_ip=self.deps.node.ip,
            client_ip=challenge.client_ip if "client_ip" in wanted else None,
            first_name=user.first_name if "first_name" in wanted else None,
            last_name=user.last_name if "last_name" in wanted else None,
            email=user.email if "email" in wanted else None,
            phone=_audited_phone(challenge.destination, tenant.settings),
            device=challenge.method_id if "device" in wanted else None,
            interface=challenge.interface,
        )


def decision_reason(decision: Decision) -> str | None:
    return decision.reason.value if decision.reason else None


def spent(challenge: Challenge) -> Decision:
    """The answer to a challenge that is no longer pending."""
    if challenge.state is ChallengeState.ACCEPTED:
        return Decision(Result.REJECT, Reason.CODE_REPLAYED, transaction_id=challenge.id)
    reason = Reason(challenge.reason) if challenge.reason else Reason.INVALID_CODE
    return Decision(Result.REJECT, reason, transaction_id=challenge.id)


def count_failure(tx: Transaction, user: User, now: float, settings: TenantSettings) -> bool:
    lock_until = now + settings.lockout_seconds if settings.lockout_seconds else _FOREVER
    locked = tx.users.record_failure(user.id, now, settings.max_failures, lock_until)
    if locked:
        log.warning(
            "user %r of tenant id %d locked after %d consecutive failures",
            user.name,
            user.tenant_id,
            settings.max_failures,
        )
    return locked


def _rate_limited(limit: str) -> RateLimited:
    return RateLimited(f"the {limit}'s limit of texts and calls is reached; try again later")


def _audited_phone(phone: str | None, settings: TenantSettings) -> str | None:
    return phone if "phone" in settings.audit_fields else None


def _e164_or_none(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except InvalidPhoneNumber:
        return None


def decided(event: AuditEvent, decision: Decision, detail: str | None = None) -> AuditEvent:
    reason = decision.reason.value if decision.reason else None
    return replace(event, result=decision.result.value, reason=reason, detail=detail)
