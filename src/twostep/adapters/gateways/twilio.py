"""Texts and calls through Twilio, with Twilio's own library and its signature checks.

The call's TwiML is sent inline (no TwiML URL to host): it reads the script (or plays
the tenant's recording of it) and gathers keys until "#", posting them to
``callback_url``; the services put our transaction id in that URL as ``?ref=``, and the
call-status webhook carries it the same way. ``api_base`` moves the REST endpoint (a
test server, a regional endpoint).

Twilio's library (the ``twilio`` extra, ~18 MiB) is imported when a gateway is built:
the settings, and the API's description of them, need none of it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from pydantic import Field, field_validator, model_validator

from twostep.adapters.gateways.common import (
    Credential,
    GatewaySettings,
    GatewaySpec,
    Text,
    check_url,
    optional_text,
    required_text,
    sender_number,
    timeout_field,
)
from twostep.domain.delivery import (
    CallEvent,
    Capability,
    Channel,
    Gateway,
    GatewayError,
    InboundText,
    Receipt,
    TextMessage,
    VoiceCall,
    WebhookAnswer,
    WebhookRefused,
    WebhookRequest,
)
from twostep.domain.errors import InvalidInput, InvalidPhoneNumber, InvalidSetting
from twostep.domain.phone import normalise_phone

API_BASE = "https://api.twilio.com"
GATHER_SECONDS = 10  # silence after the script before Twilio gives up on the keys


class TwilioSettings(GatewaySettings):
    """A Twilio account: texts, calls, inbound texts and call status. Set from_number,
    messaging_service_sid or both."""

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$", description="AC + 32 hex digits")
    auth_token: Credential = Field(
        description="the API password; also checks X-Twilio-Signature on webhooks"
    )
    from_number: Text | None = Field(
        None,
        description="the E.164 number texts and calls come from (calls need it unless the "
        "tenant sets caller_id)",
    )
    messaging_service_sid: str | None = Field(
        None,
        pattern=r"^MG[0-9a-fA-F]{32}$",
        description="MG + 32 hex digits: sends texts when no sender number is set",
    )
    api_base: Text | None = Field(None, description=f"the REST endpoint, default {API_BASE}")
    timeout: float = timeout_field(5.0)

    @field_validator("from_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        try:
            return normalise_phone(value)
        except InvalidPhoneNumber as exc:
            raise InvalidSetting(
                "from_number must be an E.164 number such as +14155550123", field="from_number"
            ) from exc

    @field_validator("api_base")
    @classmethod
    def _url(cls, value: str) -> str | None:
        return check_url(value, "api_base")

    @model_validator(mode="after")
    def _a_sender(self) -> TwilioSettings:
        if self.from_number is None and self.messaging_service_sid is None:
            raise InvalidSetting(
                "set from_number, messaging_service_sid or both", field="from_number"
            )
        return self


class TwilioGateway:
    """Every capability: texts (TextSender), calls (CallPlacer), inbound texts
    (InboundTexts) and call status and keys (CallEvents)."""

    channels = frozenset({Channel.SMS})

    def __init__(self, name: str, settings: TwilioSettings) -> None:
        from twilio.base.exceptions import TwilioException
        from twilio.http.http_client import TwilioHttpClient
        from twilio.request_validator import RequestValidator
        from twilio.rest import Client

        self.name = name
        self._s = settings
        token = settings.auth_token.get_secret_value()
        self._client = Client(
            settings.account_sid,
            token,
            http_client=TwilioHttpClient(timeout=settings.timeout),
            # Not os.environ: TWILIO_EDGE/REGION there would silently move the endpoint.
            environment={"TWILIO_ACCOUNT_SID": settings.account_sid},
        )
        self._client.api.base_url = settings.api_base or API_BASE
        self._validator = RequestValidator(token)
        self._refusal: type[Exception] = TwilioException

    def send_text(self, message: TextMessage) -> Receipt:
        if message.channel is not Channel.SMS:
            raise GatewayError(f"twilio gateway {self.name} sends text messages only")
        sender = message.sender or self._s.from_number
        service = None if sender else self._s.messaging_service_sid
        try:
            sent = self._client.messages.create(
                to=message.to, from_=sender, messaging_service_sid=service, body=message.body
            )
        except (self._refusal, OSError, ValueError) as exc:
            raise self._error(exc) from exc
        return Receipt(gateway=self.name, provider_id=sent.sid)

    def place_call(self, call: VoiceCall) -> Receipt:
        caller_id = call.caller_id or self._s.from_number
        if not caller_id:
            raise GatewayError(f"twilio gateway {self.name}: no caller ID (set from_number)")
        try:
            placed = self._client.calls.create(
                to=call.to,
                from_=caller_id,
                twiml=str(_call_script(call)),
                status_callback=call.status_url,
                status_callback_method="POST" if call.status_url else None,
                # Two seconds after the answer ("w": half a second), the extension's keys.
                send_digits=f"wwww{call.extension}" if call.extension else None,
            )
        except (self._refusal, OSError, ValueError) as exc:
            raise self._error(exc) from exc
        return Receipt(gateway=self.name, provider_id=placed.sid)

    def _error(self, exc: Exception) -> GatewayError:
        """Status and Twilio error code only: Twilio's message may quote the number."""
        prefix = f"twilio gateway {self.name}"
        status = getattr(exc, "status", None)
        if isinstance(exc, self._refusal) and status is not None:
            return GatewayError(f"{prefix}: refused ({status}, error {getattr(exc, 'code', None)})")
        if isinstance(exc, ValueError):
            return GatewayError(f"{prefix}: unreadable answer from the API")
        # requests' errors (timeouts, refused connections) are OSErrors.
        return GatewayError(f"{prefix}: cannot reach the API ({type(exc).__name__})")

    def inbound_text(self, request: WebhookRequest) -> InboundText:
        form = self._verified_form(request)
        return InboundText(
            sender=sender_number(required_text(form, "From")),
            body=required_text(form, "Body"),
            provider_id=form.get("MessageSid"),
        )

    def call_event(self, request: WebhookRequest) -> CallEvent:
        form = self._verified_form(request)
        refs = parse_qs(urlsplit(request.url).query).get("ref")
        digits = optional_text(form, "Digits")  # Twilio leaves out the finish key
        return CallEvent(
            reference=refs[0] if refs else None,
            digits=digits,
            status=optional_text(form, "CallStatus"),
            confirmed=digits is not None and form.get("FinishedOnKey") == "#",
        )

    def _verified_form(self, request: WebhookRequest) -> dict[str, str]:
        form = dict(request.form)
        if not form and request.body:
            try:
                form = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
            except UnicodeDecodeError as exc:
                raise InvalidInput("the webhook body is not UTF-8") from exc
        signature = request.headers.get("x-twilio-signature", "")
        if not signature or not self._validator.validate(request.url, form, signature):
            raise WebhookRefused("the X-Twilio-Signature does not match")
        return form

    def call_answer(self, text: str, language: str, audio_url: str | None = None) -> WebhookAnswer:
        from twilio.twiml.voice_response import VoiceResponse

        response = VoiceResponse()
        if audio_url:
            response.play(audio_url)
        else:
            response.say(text, language=language)
        response.hangup()
        return WebhookAnswer("application/xml", str(response).encode())

    def call_again(self, call: VoiceCall) -> WebhookAnswer:
        return WebhookAnswer("application/xml", str(_call_script(call)).encode())


def _call_script(call: VoiceCall) -> Any:
    """Say the script (twice, for a user who picked up late) while gathering keys.

    Without keys the call just ends: the script comes already in the user's
    language, and a fallback sentence in English would not be.
    """
    from twilio.twiml.voice_response import Gather, VoiceResponse

    gather = Gather(
        input="dtmf",
        finish_on_key="#",
        num_digits=call.max_digits + 1,  # a longer entry ends the gather and fails the check
        timeout=GATHER_SECONDS,
        action=call.callback_url,
        method="POST",
        # A lone "#" leaves no digits: without this Twilio would skip the action URL and
        # hang up, so "press # to approve" could never approve.
        action_on_empty_result=True,
    )
    if call.audio_url:  # the tenant's recording, fetched by Twilio from a signed URL
        gather.play(call.audio_url, loop=2)
    else:
        gather.say(call.script, language=call.language, loop=2)
    response = VoiceResponse()
    response.append(gather)
    response.hangup()
    return response


def _build(name: str, settings: TwilioSettings) -> Gateway:
    twilio = TwilioGateway(name, settings)
    return Gateway(name, texts=twilio, calls=twilio, inbound_texts=twilio, call_events=twilio)


SPEC = GatewaySpec(
    kind="twilio",
    settings=TwilioSettings,
    can=frozenset(Capability),
    build=_build,
    extra="twilio",
    libraries=("twilio",),
)
