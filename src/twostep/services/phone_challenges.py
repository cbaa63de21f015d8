"""Phone methods' challenges: a text with a code (``sms``), a text to reply to
(``sms_reply``), a call answered with # (``voice``): started through the tenant's
gateways, answered by the integration (the code), a text back or keys pressed.

The challenge itself (outcome, one decided answer, audit events, lockout) is the
ChallengeService's; this module is what is particular to telephones.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote

from twostep.domain.challenges import Challenge, ChallengeState
from twostep.domain.delivery import (
    Channel,
    InboundText,
    TextMessage,
    VoiceCall,
    WebhookAnswer,
    WebhookRequest,
)
from twostep.domain.entities import Integration, Tenant, User
from twostep.domain.errors import (
    InvalidInput,
    InvalidPhoneNumber,
    NumberNotAllowed,
    RateLimited,
    ResendRefused,
    TransactionNotFound,
)
from twostep.domain.phone import mask_phone, normalize_phone
from twostep.domain.ports import Transaction
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.factors import phone_text, registry
from twostep.factors.base import ChallengeRules, Family
from twostep.services.challenges import (
    ChallengeService,
    StartRequest,
    admit,
    audited_phone,
    decided,
    decision_reason,
    is_transaction_id,
    new_transaction_id,
)
from twostep.services.context import Deps, method_context
from twostep.services.delivery import Delivery, DeliveryFailed

log = logging.getLogger("twostep.challenges")

_LATE_REPLY_SECONDS = 24 * 3600  # replies to challenges finished this recently are audited


def _challenge_context(challenge_id: str) -> str:
    return f"challenge:{challenge_id}"


class PhoneChallenges:
    def __init__(
        self, deps: Deps, ledger: ChallengeService, delivery: Delivery, public_url: str
    ) -> None:
        self.deps = deps
        self.ledger = ledger
        self.delivery = delivery
        self.public_url = public_url.rstrip("/")

    def start(self, request: StartRequest) -> Decision:
        now = self.deps.clock.now()
        tenant, user, method = request.tenant, request.user, request.method
        settings = tenant.settings
        rules = registry.kind(method.kind).challenge
        destination = rules.address(method) if rules is not None else None
        event = request.event
        if rules is not None and destination is not None:
            event = replace(event, phone=audited_phone(rules.channel, destination, settings))

        def finish(decision: Decision, detail: str | None = None) -> Decision:
            # A refusal still lists the user's methods: the sign-in page offers another.
            decision = replace(decision, methods=request.methods)
            with self.deps.storage.transaction(write=True) as tx:
                tx.audit.add(tenant.id, decided(event, decision, detail))
            return decision

        if rules is None:  # not a challenge kind
            return finish(Decision(Result.REJECT, Reason.METHOD_NOT_SUPPORTED))
        if destination is None:
            return finish(Decision(Result.REJECT, Reason.NUMBER_NOT_ALLOWED), "no destination")
        if rules.typed and not request.can_prompt:  # nowhere to type the code
            detail = "this client cannot ask for a code sent by text or email"
            return finish(Decision(Result.REJECT, Reason.METHOD_NOT_SUPPORTED), detail)
        try:
            rules.allowed(destination, settings)
        except NumberNotAllowed as exc:
            return finish(Decision(Result.REJECT, Reason.NUMBER_NOT_ALLOWED), exc.message)

        challenge_id = new_transaction_id()
        code = phone_text.new_code() if rules.sends_code else None
        code_hash = (
            self.deps.secrets.digest(code.encode(), _challenge_context(challenge_id))
            if code
            else None
        )
        with self.deps.storage.transaction(write=True) as tx:
            limit = _reserve(tx, tenant, user, rules.channel, now)
            challenge = Challenge(
                id=challenge_id,
                tenant_id=tenant.id,
                user_id=user.id,
                method_id=method.id,
                kind=method.kind,
                state=ChallengeState.PENDING,
                max_attempts=settings.phone.challenge_attempts,
                created_at=now,
                expires_at=now + rules.timeout(settings),
                last_sent_at=now,
                interface=event.interface,
                code_hash=code_hash,
                destination=destination,
                integration=event.integration,
                client_ip=event.client_ip,
            )
            refused = None if limit is None else f"{limit} limit reached"
            refusal = admit(tx, request, event, refused, challenge, now)
            if refusal is not None:
                return refusal
        language = phone_text.language_of(user.language, settings.phone.language)
        try:
            gateway = self._deliver(
                tenant, method.id, rules, destination, challenge_id, code, language
            )
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
        prompt_key = rules.prompt
        if rules.channel is Channel.VOICE and self._needs_pin(method.id, settings):
            prompt_key = "prompt_voice_pin"
        decision = Decision(
            Result.CHALLENGE,
            transaction_id=challenge_id,
            methods=request.methods,
            prompt=phone_text.words(prompt_key, language, number=rules.mask(destination)),
        )
        with self.deps.storage.transaction(write=True) as tx:
            tx.challenges.delivered(challenge_id, gateway)
            tx.audit.add(tenant.id, decided(event, decision, f"sent by {gateway}"))
        return decision

    def _deliver(
        self,
        tenant: Tenant,
        method_id: str,
        rules: ChallengeRules,
        destination: str,
        challenge_id: str,
        code: str | None,
        language: str,
    ) -> str:
        settings = tenant.settings
        if rules.channel is not Channel.VOICE:  # a text or an email, with the code
            assert code is not None
            words = {
                "issuer": settings.issuer,
                "code": code,
                "minutes": max(1, rules.timeout(settings) // 60),
            }
            email = rules.channel is Channel.EMAIL
            message = TextMessage(
                to=destination,
                body=phone_text.words(rules.message, language, **words),
                channel=rules.channel,
                sender=(settings.email.email_sender if email else settings.phone.sms_sender)
                or None,
                subject=phone_text.words("email_subject", language, **words) if email else None,
                reference=challenge_id,
            )
            return self.delivery.send_text(tenant.id, message).gateway
        key = "voice_pin" if self._needs_pin(method_id, settings) else "voice"
        script = phone_text.words(key, language, issuer=settings.issuer)

        def call_for(gateway_id: str) -> VoiceCall:
            base = f"{self.public_url}/v1/gateways/{quote(gateway_id)}/calls?ref={challenge_id}"
            return VoiceCall(
                to=destination,
                caller_id=settings.phone.caller_id or None,
                script=script,
                language=phone_text.voice_of(language),
                reference=challenge_id,
                max_digits=9,
                callback_url=base,
                status_url=base + "&status=1",
            )

        return self.delivery.place_call(tenant.id, call_for).gateway

    def submit(self, integration: Integration, challenge_id: str, code: str) -> Decision:
        now = self.deps.clock.now()
        challenge, tenant, user = self.ledger.load(integration, challenge_id)
        rules = registry.kind(challenge.kind).challenge
        if rules is None or not rules.typed:
            raise InvalidInput(
                "this transaction is answered on the user's phone: wait for its outcome "
                "with GET /v1/validate/{transaction_id}",
                field="code",
            )
        return self._code(challenge, tenant, user, code, now)

    def resend(self, integration: Integration, challenge_id: str) -> Decision:
        now = self.deps.clock.now()
        challenge, tenant, user = self.ledger.load(integration, challenge_id)
        rules = registry.kind(challenge.kind).challenge
        if rules is None or not rules.sends_code:
            raise ResendRefused("only texts and emails are resent; place a new call instead")
        settings = tenant.settings
        code = phone_text.new_code()
        code_hash = self.deps.secrets.digest(code.encode(), _challenge_context(challenge.id))
        with self.deps.storage.transaction(write=True) as tx:
            if not tx.challenges.resend(
                challenge.id,
                code_hash,
                now,
                settings.phone.resend_interval,
                settings.phone.max_sends,
            ):
                raise ResendRefused(
                    f"resent too soon (wait {settings.phone.resend_interval} s), too often "
                    f"(at most {settings.phone.max_sends} sends), or the transaction is finished"
                )
            limit = _reserve(tx, tenant, user, rules.channel, now)
            if limit is not None:
                raise _rate_limited(limit)
        language = phone_text.language_of(user.language, settings.phone.language)
        try:
            self._deliver(
                tenant,
                challenge.method_id,
                rules,
                challenge.destination or "",
                challenge.id,
                code,
                language,
            )
        except DeliveryFailed as exc:
            decision = Decision(Result.REJECT, Reason.DELIVERY_FAILED, transaction_id=challenge.id)
            with self.deps.storage.transaction(write=True) as tx:
                tx.challenges.finish(
                    challenge.id, ChallengeState.REJECTED, Reason.DELIVERY_FAILED.value, now
                )
                event = self.ledger.event(challenge, tenant, user, now)
                tx.audit.add(tenant.id, decided(event, decision, exc.detail))
            return decision
        return Decision(Result.CHALLENGE, transaction_id=challenge.id)

    def inbound_text(self, gateway_id: str, request: WebhookRequest) -> None:
        tenant_id, gateway = self.delivery.inbound_texts(gateway_id)
        text = gateway.inbound_text(request)
        sender = _e164_or_none(text.sender)
        if sender is None:
            log.info("inbound text from an unreadable number ignored")
            return
        tenants = None if tenant_id is None else [tenant_id]
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            pending = tx.challenges.pending_for(tenants, sender, _REPLIED)
            latest = None if pending else tx.challenges.latest_for(tenants, sender, _REPLIED)
        if not pending:
            if latest is not None and now - latest.created_at < _LATE_REPLY_SECONDS:
                # To a decided or expired challenge: told nothing, audited as late or again.
                self._answer_reply(latest, phone_text.normalise_code(text.body), now)
            else:
                log.info("inbound text from %s matches no challenge", mask_phone(sender))
            return
        self._reply(pending, text, now)

    def call_event(self, gateway_id: str, request: WebhookRequest) -> WebhookAnswer | None:
        tenant_id, gateway = self.delivery.call_events(gateway_id)
        event = gateway.call_event(request)
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            reference = event.reference or ""
            challenge = tx.challenges.get(reference) if is_transaction_id(reference) else None
            if challenge is not None:
                tenant = tx.tenants.by_id(challenge.tenant_id)
                user = tx.users.by_id(challenge.user_id)
        if (
            challenge is None
            or _channel(challenge) is not Channel.VOICE
            or (tenant_id is not None and challenge.tenant_id != tenant_id)
            or tenant is None
            or user is None
        ):
            raise TransactionNotFound("no call of this gateway has this reference")
        language = phone_text.language_of(user.language, tenant.settings.phone.language)

        def say(key: str) -> WebhookAnswer:
            return gateway.call_answer(
                phone_text.words(key, language), phone_text.voice_of(language)
            )

        if event.digits is None:  # call progress, not an answer: only an unanswered end matters
            if event.status in ("no-answer", "busy", "failed", "canceled", "completed"):
                self.ledger.close(challenge, tenant, user, Reason.CALL_NOT_ANSWERED, now)
            return None
        ledger = self.ledger
        digits = event.digits.strip()
        if not event.confirmed:  # the gather timed out: silence is no approval
            decision = ledger.refuse(challenge, tenant, user, now, Reason.CALL_NOT_ANSWERED)
        elif digits == "0":  # "0#": this wasn't me (recorded even after the decision)
            ledger.fraud(challenge, tenant, user, now)
            return say("fraud")
        else:
            pin_ok = self._pin_ok(challenge, tenant.settings, digits)
            if pin_ok is None:  # keys pressed where only # was asked
                decision = ledger.refuse(
                    challenge, tenant, user, now, Reason.INVALID_CODE, counts=True
                )
            elif not pin_ok:
                decision = ledger.refuse(
                    challenge, tenant, user, now, Reason.INVALID_PIN, counts=True
                )
            else:
                decision = ledger.approve(challenge, tenant, user, now, attempt=False)
        # The caller hears the sign-in's outcome, whichever answer decided it.
        return say("approved" if decision.result is Result.ACCEPT else "denied")

    def _reply(self, challenges: Sequence[Challenge], text: InboundText, now: float) -> None:
        """A text back: the challenge whose code it carries, else a wrong try at the newest."""
        typed = phone_text.normalise_code(text.body)
        for challenge in challenges:
            if self._matches(challenge, typed):
                self._answer_reply(challenge, typed, now)
                return
        self._answer_reply(challenges[0], typed, now)

    def _answer_reply(self, challenge: Challenge, typed: str, now: float) -> None:
        with self.deps.storage.transaction() as tx:
            tenant = tx.tenants.by_id(challenge.tenant_id)
            user = tx.users.by_id(challenge.user_id)
        if tenant is not None and user is not None:
            self._code(challenge, tenant, user, typed, now)

    def _code(
        self, challenge: Challenge, tenant: Tenant, user: User, code: str, now: float
    ) -> Decision:
        """A texted code typed back (to the integration, or as a reply): right or wrong,
        the first answer to win decides; a late or repeated one hears the outcome."""
        typed = phone_text.normalise_code(code)
        if self._matches(challenge, typed):
            return self.ledger.approve(challenge, tenant, user, now, attempt=True)
        return self.ledger.wrong(challenge, tenant, user, now, Reason.INVALID_CODE)

    def _matches(self, challenge: Challenge, typed: str) -> bool:
        return challenge.code_hash is not None and self.deps.secrets.digest_matches(
            challenge.code_hash, typed.encode(), _challenge_context(challenge.id)
        )

    def _pin_ok(self, challenge: Challenge, settings: TenantSettings, digits: str) -> bool | None:
        """True: approve; False: wrong PIN; None: keys pressed where only # was asked."""
        with self.deps.storage.transaction() as tx:
            sealed = tx.methods.sealed_pin(challenge.method_id)
        if sealed is None:
            if settings.phone.voice_pin_required:
                return False  # a PIN is required and this method has none set
            return True if digits == "" else None
        pin = self.deps.secrets.open(sealed, method_context(challenge.method_id))
        return secrets.compare_digest(pin, digits.encode())

    def _needs_pin(self, method_id: str, settings: TenantSettings) -> bool:
        if settings.phone.voice_pin_required:
            return True
        with self.deps.storage.transaction() as tx:
            return tx.methods.sealed_pin(method_id) is not None


# Kinds whose challenge is answered by a text back, and each challenge's channel.
_REPLIED = tuple(
    k.kind.value
    for k in registry.of_family(Family.CHALLENGE)
    if k.challenge is not None and k.challenge.channel is Channel.SMS and not k.challenge.typed
)


def _channel(challenge: Challenge) -> Channel | None:
    rules = registry.kind(challenge.kind).challenge
    return None if rules is None else rules.channel


def _reserve(
    tx: Transaction, tenant: Tenant, user: User, channel: Channel, now: float
) -> str | None:
    """Count one text or call against the user's and the tenant's windows, or say which
    limit is full."""
    settings = tenant.settings
    return tx.deliveries.reserve(
        tenant.id,
        user.id,
        channel.value,
        now,
        settings.phone.delivery_window,
        settings.phone.user_delivery_limit,
        settings.phone.tenant_delivery_limit,
    )


def _rate_limited(limit: str) -> RateLimited:
    return RateLimited(f"the {limit}'s limit of texts and calls is reached; try again later")


def _e164_or_none(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except InvalidPhoneNumber:
        return None
