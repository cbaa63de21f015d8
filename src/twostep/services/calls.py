"""Phone calls (the ``voice`` kind): what a call says, and the keys the caller presses.

A call says its words (the greeting, with the PIN when one is asked) in the caller's
language, then which key reports fraud while the tenant takes reports; it plays the
tenant's recording of those words instead when there is one for the caller's language
(services/voice_prompts.py: a signed URL). The keys: # approves (after the right PIN), the
fraud code then # reports fraud, anything else denies; a wrong PIN with tries left
(``voice_pin_attempts``) asks again in the same call. Every answer goes through the ledger
(ChallengeService), where the first to win decides.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote

from twostep.domain.challenges import Challenge, Parties
from twostep.domain.delivery import CallEvent, Channel, VoiceCall, WebhookAnswer, WebhookRequest
from twostep.domain.errors import TransactionNotFound
from twostep.domain.ports.methods import SealedSecrets
from twostep.domain.ports.storage import Storage
from twostep.domain.results import Reason, Result
from twostep.domain.sealing import method_context
from twostep.domain.settings import TenantSettings
from twostep.domain.voice_prompts import PROMPT_OF_WORDS, Prompt
from twostep.factors import phone_text, registry
from twostep.services.challenges import ChallengeService
from twostep.services.context import Deps
from twostep.services.delivery import Delivery

# (tenant id, language, prompt) -> the signed URL of the tenant's recording, or None.
PromptUrls = Callable[[int, str, Prompt], str | None]


class CallWork(Protocol):
    """Reading a voice method's sealed PIN."""

    @property
    def methods(self) -> SealedSecrets: ...


class Calls:
    def __init__(
        self,
        deps: Deps,
        ledger: ChallengeService,
        delivery: Delivery,
        public_url: str,
        prompts: PromptUrls | None = None,
    ) -> None:
        self.deps = deps
        self.storage: Storage[CallWork] = deps.storage
        self.ledger = ledger
        self.delivery = delivery
        self.public_url = public_url.rstrip("/")
        self.prompts = prompts  # the signed URLs of the tenants' recorded voice prompts

    def call_event(self, gateway_id: str, request: WebhookRequest) -> WebhookAnswer | None:
        """Keys pressed (#, a PIN then #, the fraud code then #) or the call's progress; what
        the caller hears back reflects the sign-in's outcome, whichever answer decided it."""
        tenant_id, gateway = self.delivery.call_events(gateway_id)
        event = gateway.call_event(request)
        parties = self.ledger.find(event.reference or "")
        rules = registry.kind(parties.challenge.kind).challenge if parties else None
        if (
            parties is None
            or rules is None
            or rules.channel is not Channel.VOICE
            or (tenant_id is not None and parties.tenant.id != tenant_id)
        ):
            raise TransactionNotFound("no call of this gateway has this reference")
        settings = parties.tenant.settings
        wanted = parties.user.language or settings.phone.language
        language = phone_text.language_of(wanted, settings.phone.language)
        outcome = self._keys(parties, event)
        if outcome is None:
            return None
        if outcome == "retry":  # a wrong PIN with tries left: asked again, in this call
            again = self.call(gateway_id, "retry", parties.challenge, settings, (language, wanted))
            return gateway.call_again(again)
        words = phone_text.words(outcome, language)
        audio = self._audio(parties.tenant.id, wanted, outcome)
        return gateway.call_answer(words, phone_text.voice_of(language), audio)

    def call(
        self,
        gateway_id: str,
        key: str,
        challenge: Challenge,
        settings: TenantSettings,
        languages: tuple[str, str],
        extension: str | None = None,
    ) -> VoiceCall:
        """The call (or, for a retry, the keys asked again) with ``gateway_id``'s webhook
        URLs: ``key``'s words, then the fraud code when the tenant takes reports; the
        tenant's recording of them when it has one for the caller's language.
        ``languages``: the words' language (one we have words for), the caller's own."""
        language, wanted = languages
        base = f"{self.public_url}/v1/gateways/{quote(gateway_id)}/calls?ref={challenge.id}"
        fraud = settings.phone.fraud_code if settings.lockout.fraud_alert_enabled else None
        return VoiceCall(
            to=challenge.destination or "",
            caller_id=settings.phone.caller_id or None,
            script=phone_text.call_script(key, language, settings.issuer, fraud),
            language=phone_text.voice_of(language),
            reference=challenge.id,
            max_digits=9,
            callback_url=base,
            status_url=base + "&status=1",
            audio_url=self._audio(challenge.tenant_id, wanted, key),
            extension=extension,
        )

    def extension_of(self, challenge: Challenge) -> str | None:
        """The extension the call dials once answered (its own read, before the call)."""
        with self.deps.storage.transaction() as tx:
            method = tx.methods.by_id(challenge.user_id, challenge.method_id)
        return method.extension if method is not None else None

    def _audio(self, tenant_id: int, wanted: str, key: str) -> str | None:
        """The signed URL of the tenant's recording of ``key``'s words in the caller's
        language, if it has one."""
        prompt = PROMPT_OF_WORDS.get(key)
        if self.prompts is None or prompt is None:
            return None
        return self.prompts(tenant_id, wanted, prompt)

    def _keys(self, parties: Parties, event: CallEvent) -> str | None:
        """The words the caller hears, or None for call progress."""
        now, ledger = self.deps.clock.now(), self.ledger
        if event.digits is None:  # call progress, not an answer: only an unanswered end matters
            if event.status in ("no-answer", "busy", "failed", "canceled", "completed"):
                ledger.close(parties, Reason.CALL_NOT_ANSWERED, now)
            return None
        digits = event.digits.strip()
        settings = parties.tenant.settings
        challenge = parties.challenge
        if not event.confirmed:  # the gather timed out: silence is no approval
            decision = ledger.refuse(parties, now, Reason.CALL_NOT_ANSWERED)
        elif digits == settings.phone.fraud_code:  # "0#": this wasn't me
            # Recorded even after the decision; a plain denial where reports are off.
            decision = ledger.fraud(parties, now)
            if settings.lockout.fraud_alert_enabled:
                return "fraud"
        else:
            pin_ok = self._pin_ok(parties, digits)
            if pin_ok is None:  # keys pressed where only # was asked
                decision = ledger.refuse(parties, now, Reason.INVALID_CODE, counts=True)
            elif not pin_ok and challenge.attempts + 1 < challenge.max_attempts:
                # voice_pin_attempts: one spent, the caller is asked again in this call.
                decision = ledger.wrong(parties, now, Reason.INVALID_PIN)
                if decision.reason is Reason.INVALID_PIN and decision.transaction_id:
                    return "retry"
            elif not pin_ok:
                decision = ledger.refuse(parties, now, Reason.INVALID_PIN, counts=True)
            else:
                decision = ledger.approve(parties, now, attempt=False)
        return "approved" if decision.result is Result.ACCEPT else "denied"

    def needs_pin(self, challenge: Challenge, settings: TenantSettings | None = None) -> bool:
        """The caller enters a PIN: the tenant requires one, or the method has one."""
        if settings is not None and settings.phone.voice_pin_required:
            return True
        with self.storage.transaction() as tx:
            return tx.methods.sealed_pin(challenge.method_id) is not None

    def _pin_ok(self, parties: Parties, digits: str) -> bool | None:
        """True: approve; False: wrong PIN; None: keys pressed where only # was asked."""
        method_id = parties.challenge.method_id
        with self.storage.transaction() as tx:
            sealed = tx.methods.sealed_pin(method_id)
        if sealed is None:
            if parties.tenant.settings.phone.voice_pin_required:
                return False  # a PIN is required and this method has none set
            return True if digits == "" else None
        pin = self.deps.secrets.open(sealed, method_context(method_id))
        return secrets.compare_digest(pin, digits.encode())
