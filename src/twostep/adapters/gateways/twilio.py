"""Texts and calls through Twilio, with Twilio's own library and its signature checks.

The call's TwiML is sent inline (no TwiML URL to host): it reads the script and
gathers keys until "#", posting them to ``callback_url``; the services put our
transaction id in that URL as ``?ref=``, and the call-status webhook carries it the
same way. ``api_base`` moves the REST endpoint (a test server, a regional endpoint).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import Gather, VoiceResponse

from twostep.adapters.gateways.common import (
    Field,
    GatewaySpec,
    check_url,
    optional_text,
    required_text,
    sender_number,
    timeout_field,
)
from twostep.domain.delivery import (
    CallEvent,
    Channel,
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
from twostep.domain.phone import normalize_phone

API_BASE = "https://api.twilio.com"
_SID = {
    "account_sid": re.compile(r"AC[0-9a-fA-F]{32}"),
    "messaging_service_sid": re.compile(r"MG[0-9a-fA-F]{32}"),
}
GATHER_SECONDS = 10  # silence after the script before Twilio gives up on the keys


class TwilioGateway:
    channels = frozenset({Channel.SMS, Channel.VOICE})

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        """``settings`` as checked by :data:`SPEC`."""
        self.name = name
        self._s = dict(settings)
        sid = self._s["account_sid"]
        self._client = Client(
            sid,
            self._s["auth_token"],
            http_client=TwilioHttpClient(timeout=self._s["timeout"]),
            # Not os.environ: TWILIO_EDGE/REGION there would silently move the endpoint.
            environment={"TWILIO_ACCOUNT_SID": sid},
        )
        self._client.api.base_url = self._s.get("api_base", API_BASE)
        self._validator = RequestValidator(self._s["auth_token"])

    def send_text(self, message: TextMessage) -> Receipt:
        if message.channel is not Channel.SMS:
            raise GatewayError(f"twilio gateway {self.name} sends text messages only")
        sender = message.sender or self._s.get("from_number")
        service = None if sender else self._s.get("messaging_service_sid")
        try:
            sent = self._client.messages.create(
                to=message.to, from_=sender, messaging_service_sid=service, body=message.body
            )
        except (TwilioException, OSError, ValueError) as exc:
            raise self._error(exc) from exc
        return Receipt(gateway=self.name, provider_id=sent.sid)

    def place_call(self, call: VoiceCall) -> Receipt:
        caller_id = call.caller_id or self._s.get("from_number")
        if not caller_id:
            raise GatewayError(f"twilio gateway {self.name}: no caller ID (set from_number)")
        try:
            placed = self._client.calls.create(
                to=call.to,
                from_=caller_id,
                twiml=str(_call_script(call)),
                status_callback=call.status_url,
                status_callback_method="POST" if call.status_url else None,
            )
        except (TwilioException, OSError, ValueError) as exc:
            raise self._error(exc) from exc
        return Receipt(gateway=self.name, provider_id=placed.sid)

    def _error(self, exc: Exception) -> GatewayError:
        """Status and Twilio error code only: Twilio's message may quote the number."""
        prefix = f"twilio gateway {self.name}"
        if isinstance(exc, TwilioException) and hasattr(exc, "status"):
            return GatewayError(f"{prefix}: refused ({exc.status}, error {exc.code})")
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

    def call_answer(self, text: str, language: str) -> WebhookAnswer:
        response = VoiceResponse()
        response.say(text, language=language)
        response.hangup()
        return WebhookAnswer("application/xml", str(response).encode())


def _call_script(call: VoiceCall) -> VoiceResponse:
    """Say the script (twice, for a user who picked up late) while gathering keys.

    Without keys the call just ends: the script comes already in the user's
    language, and a fallback sentence in English would not be.
    """
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
    gather.say(call.script, language=call.language, loop=2)
    response = VoiceResponse()
    response.append(gather)
    response.hangup()
    return response


def _check(settings: dict[str, Any]) -> None:
    for key, pattern in _SID.items():
        if key in settings and not pattern.fullmatch(settings[key]):
            raise InvalidSetting(f"{key} is not a Twilio SID of this kind", field=key)
    if "from_number" in settings:
        try:
            settings["from_number"] = normalize_phone(settings["from_number"])
        except InvalidPhoneNumber as exc:
            raise InvalidSetting(
                "from_number must be an E.164 number such as +14155550123", field="from_number"
            ) from exc
    elif "messaging_service_sid" not in settings:
        raise InvalidSetting("set from_number, messaging_service_sid or both", field="from_number")
    check_url(settings, "api_base")


SPEC = GatewaySpec(
    kind="twilio",
    fields=(
        Field("account_sid", str, required=True),
        Field("auth_token", str, required=True, secret=True),
        Field("from_number", str),
        Field("messaging_service_sid", str),
        Field("api_base", str),
        timeout_field(5.0),
    ),
    build=TwilioGateway,
    extra_check=_check,
)
