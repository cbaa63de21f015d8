"""Delivery: what a gateway does for the phone methods (and email), and what it hears back.

A gateway is one configured provider account of a tenant (an SMS API, an SMTP relay,
Twilio, the development outbox). It has some of four capabilities, each a small protocol:
it sends texts or emails (``TextSender``), places calls (``CallPlacer``), reads the texts
users send back (``InboundTexts``), reads the keys pressed in a call (``CallEvents``).
The services hand it a message or a call and get a receipt or a ``GatewayError``; the
HTTP interface hands it a webhook request and gets back what the provider said.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from twostep.domain.errors import TwostepError


class Channel(StrEnum):
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A text message (``SMS``) or an email (``EMAIL``) carrying a code."""

    to: str  # E.164 for SMS, an address for email
    body: str
    channel: Channel = Channel.SMS
    sender: str | None = None  # the tenant's sender ID or number; the gateway's default if None
    subject: str | None = None  # email only
    reference: str | None = None  # our transaction id, for status callbacks


@dataclass(frozen=True, slots=True)
class VoiceCall:
    """A call that reads ``script`` and gathers keys until ``#``."""

    to: str  # E.164
    caller_id: str | None  # E.164 the call is placed from; the gateway's default if None
    script: str  # what is said, already in the user's language
    language: str  # BCP 47 tag for the text-to-speech voice, e.g. "en-US"
    reference: str  # our transaction id
    max_digits: int  # keys gathered before "#" (a PIN's length, or 1 for "0#")
    callback_url: str  # where the provider posts the keys pressed
    status_url: str | None = None  # where the provider posts call progress
    # The tenant's recording of the script (a signed URL the provider fetches), played in
    # place of text-to-speech; the script stays the text for gateways that cannot play one.
    audio_url: str | None = None
    # Keys dialled once the call is answered: the extension of a number behind a
    # switchboard (as MFA Server had them). A gateway that cannot send digits ignores it.
    extension: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    gateway: str  # the gateway's name
    provider_id: str | None = None  # the provider's message or call id


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """An HTTP request a provider made to us, as received (for signature checks)."""

    url: str  # the full public URL the provider called, with the query string
    method: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    form: Mapping[str, str] = field(default_factory=dict)  # parsed form fields, if a form


@dataclass(frozen=True, slots=True)
class InboundText:
    sender: str  # E.164 where the gateway can tell; as received otherwise
    body: str
    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Keys pressed in a call (``digits`` without the final "#"), or a status change."""

    reference: str | None  # our transaction id, when the provider echoes it
    digits: str | None  # None: a status update, no keys gathered
    status: str | None = None  # provider's call status: completed, no-answer, busy, failed
    # The keys ended with "#". A gather that timed out (silence, or keys without "#") is no
    # answer: "answer and stay silent" must never approve a sign-in.
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """What to answer the provider (TwiML for Twilio, plain text elsewhere)."""

    content_type: str
    body: bytes


class GatewayError(Exception):
    """A delivery failed (timeout, refusal, error status). The message is safe to audit:
    it never carries a credential, a code or a full phone number."""


class ChannelGone(GatewayError):
    """The push service says this channel no longer exists (HTTP 404/410, FCM
    ``UNREGISTERED``): the app was removed or the subscription expired. Drop the
    channel; the device can still long-poll."""


class WebhookRefused(TwostepError):
    """The webhook's signature or secret does not match this gateway, or the gateway
    takes no such webhook (a kind without inbound texts or call events)."""

    code = "webhook_refused"


class Capability(StrEnum):
    """What a gateway kind can do; each is one small protocol below."""

    TEXTS = "texts"  # TextSender: texts (SMS) and/or emails
    CALLS = "calls"  # CallPlacer
    INBOUND_TEXTS = "inbound_texts"  # InboundTexts: texts users send back
    CALL_EVENTS = "call_events"  # CallEvents: keys pressed, call status


class TextSender(Protocol):
    @property
    def channels(self) -> frozenset[Channel]:
        """What it sends: SMS, EMAIL or both (a gateway may depend on its settings)."""
        ...

    def send_text(self, message: TextMessage) -> Receipt:
        """Hand the message to the provider; raise GatewayError if it was not accepted."""
        ...


class CallPlacer(Protocol):
    def place_call(self, call: VoiceCall) -> Receipt:
        """Start the call; raise GatewayError if the provider did not accept it."""
        ...


class InboundTexts(Protocol):
    def inbound_text(self, request: WebhookRequest) -> InboundText:
        """Check the webhook's signature and read the text a user sent back.
        Raises WebhookRefused (bad signature) or InvalidInput (unreadable)."""
        ...


class CallEvents(Protocol):
    def call_event(self, request: WebhookRequest) -> CallEvent:
        """Check the webhook's signature and read the keys pressed or the call status."""
        ...

    def call_answer(self, text: str, language: str, audio_url: str | None = None) -> WebhookAnswer:
        """What to say back to the caller after the keys were read (then hang up); the
        tenant's recording of ``text`` is played instead when ``audio_url`` is given."""
        ...

    def call_again(self, call: VoiceCall) -> WebhookAnswer:
        """Ask the caller for keys again (a wrong PIN with tries left): ``call``'s script
        (or recording), gathered as when the call was placed."""
        ...


@dataclass(frozen=True, slots=True)
class Gateway:
    """One configured gateway and what it can do: a capability it lacks is None, so an
    email-only gateway writes no stubs, and nobody calls what is not there."""

    name: str
    texts: TextSender | None = None
    calls: CallPlacer | None = None
    inbound_texts: InboundTexts | None = None
    call_events: CallEvents | None = None

    @property
    def capabilities(self) -> frozenset[Capability]:
        present = {
            Capability.TEXTS: self.texts,
            Capability.CALLS: self.calls,
            Capability.INBOUND_TEXTS: self.inbound_texts,
            Capability.CALL_EVENTS: self.call_events,
        }
        return frozenset(c for c, part in present.items() if part is not None)


class GatewaySpecs(Protocol):
    """The gateway kinds' settings: checked, and which of them are credentials."""

    def kinds(self) -> frozenset[str]: ...

    def check(self, kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Validate a configuration; return it normalised. Raises InvalidSetting."""
        ...

    def secret_fields(self, kind: str) -> frozenset[str]:
        """Fields of the configuration that are credentials (sealed at rest, never shown)."""
        ...


class GatewayBuilder(Protocol):
    def build(self, kind: str, name: str, settings: Mapping[str, Any]) -> Gateway:
        """The gateway from its stored configuration (secrets already opened). Raises
        InvalidSetting if the configuration is no longer valid."""
        ...


class PushNotifier(Protocol):
    """Wakes a device through one push service (Web Push, ntfy, FCM). The payload only
    says "you have a request": the device fetches the details over the device API."""

    kind: str  # the device's push kind this notifier serves: "webpush", "ntfy", "fcm"

    def check_channel(self, channel: Mapping[str, str]) -> dict[str, str]:
        """Validate what a device sent as its push channel at activation; return it
        normalised. Raises InvalidInput."""
        ...

    def notify(self, channel: Mapping[str, str], payload: bytes) -> None:
        """Deliver ``payload`` to the device's channel; raise GatewayError on failure."""
        ...


class PushChannels(Protocol):
    """Every push notifier this server has, by the device's push kind ("pull" needs none)."""

    def kinds(self) -> frozenset[str]: ...

    def check_channel(self, kind: str, channel: Mapping[str, str]) -> dict[str, str]: ...

    def notify(self, kind: str, channel: Mapping[str, str], payload: bytes) -> None: ...
