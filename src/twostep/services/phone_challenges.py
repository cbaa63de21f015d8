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
from twostep.domain.ports import Transaction
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.factors import phone_text
from twostep.factors.phone import PHONE_FACTORS, PhoneFactor
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
        factor = PHONE_FACTORS.get(method.kind)
        event = replace(request.event, phone=audited_phone(method.phone, settings))

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
        if factor.code_submitted and not request.can_prompt:  # nowhere to type the code
            detail = "this client cannot ask for a texted code"
            return finish(Decision(Result.REJECT, Reason.METHOD_NOT_SUPPORTED), detail)
        try:
            check_destination(
                method.phone,
                texts=factor.channel is Channel.SMS,
                allowed_calling_codes=settings.phone.allowed_calling_codes,
            )
        except NumberNotAllowed as exc:
            return finish(Decision(Result.REJECT, Reason.NUMBER_NOT_ALLOWED), exc.message)

        challenge_id = new_transaction_id()
        code = phone_text.new_code() if factor.channel is Channel.SMS else None
        code_hash = (
            self.deps.secrets.digest(code.encode(), _challenge_context(challenge_id))
            if code
            else None
        )
        with self.deps.storage.transaction(write=True) as tx:
            limit = _reserve(tx, tenant, user, factor.channel, now)
            challenge = Challenge(
                id=challenge_id,
                tenant_id=tenant.id,
                user_id=user.id,
                method_id=method.id,
                kind=method.kind,
                state=ChallengeState.PENDING,
                max_attempts=settings.phone.challenge_attempts,
                created_at=now,
                expires_at=now + factor.timeout(settings),
                last_sent_at=now,
                interface=event.interface,
                code_hash=code_hash,
                destination=method.phone,
                integration=event.integration,
                client_ip=event.client_ip,
            )
            refused = None if limit is None else f"{limit} limit reached"
            refusal = admit(tx, request, event, refused, challenge, now)
            if refusal is not None:
                return refusal
        language = phone_text.language_of(user.language, settings.phone.language)
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
                sender=settings.phone.sms_sender or None,
                reference=challenge_id,
            )
            return self.delivery.send_text(tenant.id, message).gateway
        key = "voice_pin" if self._needs_pin(method, settings) else "voice"
        script = phone_text.words(key, language, issuer=settings.issuer)

        def call_for(gateway_id: str) -> VoiceCall:
            base = f"{self.public_url}/v1/gateways/{quote(gateway_id)}/calls?ref={challenge_id}"
            return VoiceCall(
                to=method.phone or "",
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
        if challenge.kind is not MethodKind.SMS:
            raise InvalidInput(
                "this transaction is answered on the user's phone: wait for its outcome "
                "with GET /v1/validate/{transaction_id}",
                field="code",
            )
        return self._code(challenge, tenant, user, code, now)

    def resend(self, integration: Integration, challenge_id: str) -> Decision:
        now = self.deps.clock.now()
        challenge, tenant, user = self.ledger.load(integration, challenge_id)
        factor = PHONE_FACTORS.get(challenge.kind)
        if factor is None or factor.channel is not Channel.SMS:
            raise ResendRefused("only text messages are resent; place a new call instead")
        settings = tenant.settings
        code = phone_text.new_code()
        code_hash = self.deps.secrets.digest(code.encode(), _challenge_context(challenge.id))
        with self.deps.storage.transaction(write=True) as tx:
            if not tx.challenges.resend(
                challenge.id, code_hash, now, settings.phone.resend_interval, settings.phone.max_sends
            ):
                raise ResendRefused(
                    f"resent too soon (wait {settings.phone.resend_interval} s), too often "
                    f"(at most {settings.phone.max_sends} sends), or the transaction is finished"
                )
            limit = _reserve(tx, tenant, user, factor.channel, now)
            if limit is not None:
                raise _rate_limited(limit)
        method = Method(
            id=challenge.method_id,
            user_id=user.id,
            kind=challenge.kind,
            status=MethodStatus.ACTIVE,
            phone=challenge.destination,
        )
        language = phone_text.language_of(user.language, settings.phone.language)
        try:
            self._deliver(tenant, method, factor, challenge.id, code, language)
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
                # To a decided or expired challenge: told nothing, audited as late or again.
                self._answer_reply(latest, phone_text.normalise_code(text.body), now)
            else:
                log.info("inbound text from %s matches no challenge", mask_phone(sender))
            return
        self._reply(pending, text, now)

    def call_event(self, gateway_id: str, request: WebhookRequest) -> WebhookAnswer | None:
        tenant_id, gateway = self._gateway(gateway_id)
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
            or challenge.kind is not MethodKind.VOICE
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

    def _gateway(self, gateway_id: str) -> tuple[int | None, Gateway]:
        found = self.delivery.gateway(gateway_id[:64])
        if found is None:
            raise GatewayNotFound(f"no gateway {gateway_id[:64]!r}")
        return found

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
            sealed = tx.methods.sealed_seed(challenge.method_id)
        if sealed is None:
            if settings.phone.voice_pin_required:
                return False  # a PIN is required and this method has none set
            return True if digits == "" else None
        pin = self.deps.secrets.open(sealed, method_context(challenge.method_id))
        return secrets.compare_digest(pin, digits.encode())

    def _needs_pin(self, method: Method, settings: TenantSettings) -> bool:
        if settings.phone.voice_pin_required:
            return True
        with self.deps.storage.transaction() as tx:
            return tx.methods.sealed_seed(method.id) is not None


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
