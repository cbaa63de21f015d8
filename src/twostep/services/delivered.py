"""Challenges a gateway delivers: a code by text (``sms``) or email (``email``), a text to
reply to (``sms_reply``), a call answered with # (``voice``). What a kind does is in its
module in factors/ (its channel, words, timeout, whether the code is typed at the sign-in);
this is the lifecycle they share: open (limits, the challenge stored), deliver (through
the tenant's gateways, in failover order), decide (the code typed, a text back, keys
pressed: ChallengeService, where the first answer to win decides).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from twostep.domain.audit import AuditEvent
from twostep.domain.challenges import Challenge, ChallengeState, Parties
from twostep.domain.delivery import (
    Channel,
    InboundText,
    TextMessage,
    VoiceCall,
    WebhookAnswer,
    WebhookRequest,
)
from twostep.domain.entities import Integration
from twostep.domain.errors import (
    InvalidInput,
    InvalidPhoneNumber,
    NumberNotAllowed,
    RateLimited,
    ResendRefused,
)
from twostep.domain.phone import mask_phone, normalise_phone
from twostep.domain.ports.challenges import DeliveryRepo
from twostep.domain.ports.methods import SealedSecrets
from twostep.domain.ports.storage import Storage
from twostep.domain.ports.usage import DeliveryCountRepo
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.domain.sms import segments
from twostep.factors import phone_text, registry
from twostep.factors.base import ChallengeRules, Family
from twostep.services.calls import Calls, PromptUrls
from twostep.services.challenges import (
    ChallengeService,
    LedgerWork,
    StartRequest,
    admit,
    audited_phone,
    decided,
    new_transaction_id,
)
from twostep.services.context import Deps
from twostep.services.delivery import Delivery, DeliveryFailed
from twostep.services.delivery_counts import count_delivery

log = logging.getLogger("twostep.challenges")

LATE_REPLY_SECONDS = 24 * 3600  # replies to challenges finished this recently are audited

# Kinds answered by a text back: an inbound text is matched against their challenges.
_REPLIED = tuple(
    k.kind.value
    for k in registry.of_family(Family.CHALLENGE)
    if k.challenge is not None and k.challenge.channel is Channel.SMS and not k.challenge.typed
)


def _code_context(challenge_id: str) -> str:
    return f"challenge:{challenge_id}"


@dataclass(frozen=True, slots=True)
class _Opened:
    challenge: Challenge
    rules: ChallengeRules
    code: str | None  # the one-time code sent (never stored: its keyed digest is)
    language: str
    settings: TenantSettings
    event: AuditEvent  # the sign-in's event, its destination filled in
    wanted: str  # the user's language (else the tenant's): the recordings' language


class DeliveredWork(LedgerWork, Protocol):
    """Deciding, with the delivery limits and the voice PINs."""

    @property
    def deliveries(self) -> DeliveryRepo: ...

    @property
    def methods(self) -> SealedSecrets: ...

    @property
    def delivery_counts(self) -> DeliveryCountRepo: ...


class DeliveredChallenges:
    def __init__(
        self,
        deps: Deps,
        ledger: ChallengeService,
        delivery: Delivery,
        public_url: str,
        prompts: PromptUrls | None = None,
    ) -> None:
        self.deps = deps
        self.storage: Storage[DeliveredWork] = deps.storage
        self.ledger = ledger
        self.delivery = delivery
        self.calls = Calls(deps, ledger, delivery, public_url, prompts)

    # -- open, deliver ------------------------------------------------------------------

    def start(self, request: StartRequest) -> Decision:
        opened = self._open(request)
        if isinstance(opened, Decision):  # refused (audited), or not opened
            return opened
        challenge, tenant = opened.challenge, request.tenant
        try:
            gateway, parts = self._deliver(tenant.id, opened)
        except DeliveryFailed as exc:
            decision = Decision(
                Result.REJECT,
                Reason.DELIVERY_FAILED,
                transaction_id=challenge.id,
                methods=request.methods,
            )
            with self.storage.transaction(write=True) as tx:
                failed = Reason.DELIVERY_FAILED.value
                now = challenge.created_at
                tx.challenges.finish(challenge.id, ChallengeState.REJECTED, failed, now)
                # The user never got it: neither their lockout count nor their limit pays.
                tx.users.forgive_failure(request.user.id, now)
                tx.deliveries.release(request.user.id, now)
                tx.audit.add(tenant.id, decided(opened.event, decision, exc.detail))
                count_delivery(
                    tx, tenant.id, challenge.kind, challenge.destination, now, segments=None
                )
            return decision
        destination = challenge.destination or ""
        prompt = opened.rules.prompt
        calls = self.calls
        if opened.rules.channel is Channel.VOICE and calls.needs_pin(challenge, opened.settings):
            prompt = "prompt_voice_pin"
        decision = Decision(
            Result.CHALLENGE,
            transaction_id=challenge.id,
            methods=request.methods,
            prompt=phone_text.words(prompt, opened.language, number=opened.rules.mask(destination)),
        )
        with self.storage.transaction(write=True) as tx:
            tx.challenges.delivered(challenge.id, gateway)
            tx.audit.add(tenant.id, decided(opened.event, decision, f"sent by {gateway}"))
            at = challenge.created_at
            count_delivery(tx, tenant.id, challenge.kind, destination, at, segments=parts)
        return decision

    def _open(self, request: StartRequest) -> _Opened | Decision:
        """The challenge stored (its code's keyed digest, never the code), within the limits;
        else the refusal, audited. A refusal still lists the user's methods: the sign-in
        page offers another."""
        now = self.deps.clock.now()
        tenant, user, method = request.tenant, request.user, request.method
        settings = tenant.settings
        rules = registry.kind(method.kind).challenge
        destination = rules.address(method) if rules is not None else None
        event = request.event
        refused: tuple[Reason, str | None] | None = None
        if rules is None:  # not a kind a gateway delivers
            refused = Reason.METHOD_NOT_SUPPORTED, None
        elif destination is None:
            refused = Reason.NUMBER_NOT_ALLOWED, "no destination"
        elif rules.typed and not request.can_prompt:  # nowhere to type the code
            refused = Reason.METHOD_NOT_SUPPORTED, "this client cannot ask for a code"
        else:
            event = replace(event, phone=audited_phone(rules.channel, destination, settings))
            try:
                rules.allowed(destination, settings)
            except NumberNotAllowed as exc:
                refused = Reason.NUMBER_NOT_ALLOWED, exc.message
        if refused is not None or rules is None or destination is None:
            reason, detail = refused or (Reason.METHOD_NOT_SUPPORTED, None)
            decision = Decision(Result.REJECT, reason, methods=request.methods)
            with self.storage.transaction(write=True) as tx:
                tx.audit.add(tenant.id, decided(event, decision, detail))
            return decision

        challenge_id = new_transaction_id()
        code = phone_text.new_code() if rules.sends_code else None
        challenge = Challenge(
            id=challenge_id,
            tenant_id=tenant.id,
            user_id=user.id,
            method_id=method.id,
            kind=method.kind,
            state=ChallengeState.PENDING,
            # A call's budget is its PINs (voice_pin_attempts); a code's, its wrong codes.
            max_attempts=(
                settings.phone.voice_pin_attempts
                if rules.channel is Channel.VOICE
                else settings.phone.challenge_attempts
            ),
            created_at=now,
            expires_at=now + rules.timeout(settings),
            last_sent_at=now,
            interface=event.interface,
            code_hash=self._digest(challenge_id, code),
            destination=destination,
            integration=event.integration,
            client_ip=event.client_ip,
        )
        with self.storage.transaction(write=True) as tx:
            limit = _reserve(tx, request, rules.channel, now)
            refusal = admit(
                tx, request, event, f"{limit} limit reached" if limit else None, challenge, now
            )
        if refusal is not None:
            return refusal
        language = phone_text.language_of(user.language, settings.phone.language)
        wanted = user.language or settings.phone.language
        return _Opened(challenge, rules, code, language, settings, event, wanted)

    def _deliver(self, tenant_id: int, opened: _Opened) -> tuple[str, int]:
        """Hand the text, email or call to the tenant's gateways (failover in order): the
        name of the gateway that took it and the SMS segments sent (0: a call, an email),
        or DeliveryFailed."""
        challenge, rules, language, settings = (
            opened.challenge,
            opened.rules,
            opened.language,
            opened.settings,
        )
        destination = challenge.destination or ""
        if rules.channel is not Channel.VOICE:  # a text or an email, with the code
            assert opened.code is not None
            words = {
                "issuer": settings.issuer,
                "code": opened.code,
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
                reference=challenge.id,
            )
            parts = 0 if email else segments(message.body)
            return self.delivery.send_text(tenant_id, message).gateway, parts
        key = "voice_pin" if self.calls.needs_pin(challenge, settings) else "voice"
        extension = self.calls.extension_of(challenge)
        languages = (language, opened.wanted)

        def call_for(gateway_id: str) -> VoiceCall:
            return self.calls.call(gateway_id, key, challenge, settings, languages, extension)

        return self.delivery.place_call(tenant_id, call_for).gateway, 0

    # -- the code, typed at the sign-in ------------------------------------------------

    def submit(self, integration: Integration, challenge_id: str, code: str) -> Decision:
        """The code the user typed, submitted by the integration."""
        parties = self.ledger.load(integration, challenge_id)
        rules = registry.kind(parties.challenge.kind).challenge
        if rules is None or not rules.typed:
            raise InvalidInput(
                "this transaction is answered on the user's phone: wait for its outcome "
                "with GET /v1/validate/{transaction_id}",
                field="code",
            )
        return self.answer_code(parties, code)

    def answer_code(self, parties: Parties, code: str) -> Decision:
        """A code sent by text or email, typed back (at the sign-in, or as a reply): right
        or wrong, the first answer to win decides; a late or repeated one hears the outcome."""
        now = self.deps.clock.now()
        if self._matches(parties.challenge, phone_text.normalise_code(code)):
            return self.ledger.approve(parties, now, attempt=True)
        return self.ledger.wrong(parties, now, Reason.INVALID_CODE)

    def resend(self, integration: Integration, challenge_id: str) -> Decision:
        """The text or email again, with a new code (the old one stops working); a call
        placed again ("call again": the same transaction, its PIN tries kept). The same
        limits either way: resend_interval, max_sends, the delivery limits."""
        now = self.deps.clock.now()
        parties = self.ledger.load(integration, challenge_id)
        challenge, tenant, user = parties.challenge, parties.tenant, parties.user
        rules = registry.kind(challenge.kind).challenge
        call = rules is not None and rules.channel is Channel.VOICE
        if rules is None or not (rules.sends_code or call):
            raise ResendRefused("only texts, emails and calls are sent again")
        phone = tenant.settings.phone
        code = None if call else phone_text.new_code()
        with self.storage.transaction(write=True) as tx:
            digest = self._digest(challenge.id, code)
            if not tx.challenges.resend(
                challenge.id,
                digest,
                now,
                phone.resend_interval,
                phone.max_sends,
                new_code=not call,
            ):
                raise ResendRefused(
                    f"resent too soon (wait {phone.resend_interval} s), too often "
                    f"(at most {phone.max_sends} sends), or the transaction is finished"
                )
            limit = tx.deliveries.reserve(
                tenant.id,
                user.id,
                rules.channel.value,
                now,
                phone.delivery_window,
                phone.user_delivery_limit,
                phone.tenant_delivery_limit,
            )
            if limit is not None:
                raise RateLimited(
                    f"the {limit}'s limit of texts, calls and emails is reached; try again later"
                )
        language = phone_text.language_of(user.language, phone.language)
        event = self.ledger.event(parties, now)
        wanted = user.language or phone.language
        opened = _Opened(challenge, rules, code, language, tenant.settings, event, wanted)
        kind, destination = challenge.kind, challenge.destination
        try:
            _, parts = self._deliver(tenant.id, opened)
        except DeliveryFailed as exc:
            decision = Decision(Result.REJECT, Reason.DELIVERY_FAILED, transaction_id=challenge.id)
            with self.storage.transaction(write=True) as tx:
                tx.challenges.finish(
                    challenge.id, ChallengeState.REJECTED, Reason.DELIVERY_FAILED.value, now
                )
                tx.audit.add(tenant.id, decided(event, decision, exc.detail))
                count_delivery(tx, tenant.id, kind, destination, now, segments=None)
            return decision
        with self.storage.transaction(write=True) as tx:  # a resend is counted as it went
            count_delivery(tx, tenant.id, kind, destination, now, segments=parts)
        return Decision(Result.CHALLENGE, transaction_id=challenge.id)

    # -- a text back -------------------------------------------------------------------

    def inbound_text(self, gateway_id: str, request: WebhookRequest) -> None:
        """A text a user sent back: it answers the pending challenge whose code it carries,
        else it is a wrong try at the newest; a late one is audited, not lost."""
        tenant_id, gateway = self.delivery.inbound_texts(gateway_id)
        text = gateway.inbound_text(request)
        sender = _e164_or_none(text.sender)
        if sender is None:
            log.info("inbound text from an unreadable number ignored")
            return
        tenants = None if tenant_id is None else [tenant_id]
        now = self.deps.clock.now()
        with self.storage.transaction() as tx:
            pending = tx.challenges.pending_for(tenants, sender, _REPLIED)
            latest = None if pending else tx.challenges.latest_for(tenants, sender, _REPLIED)
        answered = self._replied_to(pending, text) if pending else latest
        if answered is None or (not pending and now - answered.created_at > LATE_REPLY_SECONDS):
            log.info("inbound text from %s matches no challenge", mask_phone(sender))
            return
        parties = self.ledger.find(answered.id)
        if parties is not None:  # to a decided or expired one: audited as late or again
            self.answer_code(parties, text.body)

    def _replied_to(self, pending: Sequence[Challenge], text: InboundText) -> Challenge:
        typed = phone_text.normalise_code(text.body)
        return next((c for c in pending if self._matches(c, typed)), pending[0])

    # -- keys pressed in a call --------------------------------------------------------

    def call_event(self, gateway_id: str, request: WebhookRequest) -> WebhookAnswer | None:
        """Keys pressed in a call, or its progress (services/calls.py)."""
        return self.calls.call_event(gateway_id, request)

    # -- internals ---------------------------------------------------------------------

    def _digest(self, challenge_id: str, code: str | None) -> bytes | None:
        if code is None:
            return None
        return self.deps.secrets.digest(code.encode(), _code_context(challenge_id))

    def _matches(self, challenge: Challenge, typed: str) -> bool:
        return challenge.code_hash is not None and self.deps.secrets.digest_matches(
            challenge.code_hash, typed.encode(), _code_context(challenge.id)
        )


def _reserve(tx: DeliveredWork, request: StartRequest, channel: Channel, now: float) -> str | None:
    """Count one text, call or email against the user's and the tenant's windows, or say
    which limit is full."""
    phone = request.tenant.settings.phone
    return tx.deliveries.reserve(
        request.tenant.id,
        request.user.id,
        channel.value,
        now,
        phone.delivery_window,
        phone.user_delivery_limit,
        phone.tenant_delivery_limit,
    )


def _e164_or_none(raw: str) -> str | None:
    try:
        return normalise_phone(raw)
    except InvalidPhoneNumber:
        return None
