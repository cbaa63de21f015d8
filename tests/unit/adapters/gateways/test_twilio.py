"""The Twilio gateway: Twilio's real library against a loopback server speaking its REST API."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest
from defusedxml import ElementTree
from twilio.request_validator import RequestValidator

from tests.support.fake_twilio import (
    ACCOUNT,
    INVALID_TO,
    SID,
    TOKEN,
    Recorder,
    twilio_api,
)
from tests.support.postgres import free_port
from twostep.adapters.gateways.registry import GatewayRegistry
from twostep.adapters.gateways.twilio import TwilioGateway
from twostep.domain.delivery import (
    Channel,
    GatewayError,
    TextMessage,
    VoiceCall,
    WebhookRefused,
    WebhookRequest,
)
from twostep.domain.errors import InvalidInput, InvalidSetting

SERVICE = "MG" + "fedcba9876543210" * 2
TO = "+14155550123"
FROM = "+14155550100"


@pytest.fixture
def api(recorder: Recorder) -> Recorder:
    recorder.answer = twilio_api
    return recorder


def gateway(api_base: str = "https://api.twilio.com", **settings: Any) -> TwilioGateway:
    """Twilio does everything, with one object."""
    base = {"account_sid": SID, "auth_token": TOKEN, "from_number": FROM, "api_base": api_base}
    built = GatewayRegistry().build("twilio", "twilio-main", base | settings)
    twilio = built.texts
    assert isinstance(twilio, TwilioGateway)
    assert built.calls is built.inbound_texts is built.call_events is twilio
    return twilio


def test_a_text(api: Recorder) -> None:
    receipt = gateway(api.url).send_text(TextMessage(TO, "Your code is 493027"))

    (req,) = api.requests
    assert (req.method, req.path) == ("POST", f"{ACCOUNT}/Messages.json")
    assert req.form() == {"To": TO, "From": FROM, "Body": "Your code is 493027"}
    assert "twilio-python" in req.headers["user-agent"]  # the official library spoke
    assert (receipt.gateway, receipt.provider_id) == ("twilio-main", "SM" + "a" * 32)


def test_the_tenant_sender_wins_over_from_number(api: Recorder) -> None:
    gateway(api.url).send_text(TextMessage(TO, "Code", sender="ACME"))
    assert api.requests[0].form()["From"] == "ACME"


def test_a_messaging_service_when_there_is_no_number(api: Recorder) -> None:
    gw = gateway(api.url, from_number=None, messaging_service_sid=SERVICE)
    gw.send_text(TextMessage(TO, "Code"))
    assert api.requests[0].form() == {"To": TO, "MessagingServiceSid": SERVICE, "Body": "Code"}


def test_a_call_gathers_keys_until_pound(api: Recorder) -> None:
    call = VoiceCall(
        to=TO,
        caller_id="+14155550199",
        script="Press pound to sign in to Example.",
        language="de-DE",
        reference="tx-9",
        max_digits=4,
        callback_url="https://mfa.example.com/v1/gateways/g1/call?ref=tx-9",
        status_url="https://mfa.example.com/v1/gateways/g1/status?ref=tx-9",
    )
    receipt = gateway(api.url).place_call(call)

    (req,) = api.requests
    assert req.path == f"{ACCOUNT}/Calls.json"
    form = req.form()
    assert (form["To"], form["From"]) == (TO, "+14155550199")
    assert form["StatusCallback"] == call.status_url
    assert form["StatusCallbackMethod"] == "POST"
    twiml = ElementTree.fromstring(form["Twiml"])
    assert [child.tag for child in twiml] == ["Gather", "Hangup"]
    gather = twiml.find("Gather")
    assert gather is not None
    assert gather.attrib["finishOnKey"] == "#"
    assert gather.attrib["action"] == call.callback_url
    assert gather.attrib["method"] == "POST"
    assert gather.attrib["numDigits"] == "5"
    say = gather.find("Say")
    assert say is not None
    assert (say.text, say.attrib["language"]) == (call.script, "de-DE")
    assert receipt.provider_id == "CA" + "b" * 32


def test_a_call_from_the_default_number_without_status_url(api: Recorder) -> None:
    call = VoiceCall(
        TO, None, "Press pound.", "en-US", "tx-1", 1, "https://mfa.example/cb?ref=tx-1"
    )
    gateway(api.url).place_call(call)
    form = api.requests[0].form()
    assert form["From"] == FROM
    assert "StatusCallback" not in form
    assert "SendDigits" not in form


def test_a_call_to_an_extension_dials_it_once_answered(api: Recorder) -> None:
    call = VoiceCall(
        TO, None, "Press pound.", "en-US", "tx-2", 1, "https://mfa.example/cb", extension="890"
    )
    gateway(api.url).place_call(call)
    form = api.requests[0].form()
    assert (form["To"], form["SendDigits"]) == (TO, "wwww890")


def test_a_call_needs_a_caller_id(api: Recorder) -> None:
    gw = gateway(api.url, from_number=None, messaging_service_sid=SERVICE)
    call = VoiceCall(TO, None, "Press pound.", "en-US", "tx-1", 1, "https://mfa.example/cb")
    with pytest.raises(GatewayError, match="no caller ID"):
        gw.place_call(call)
    assert api.requests == []


def test_a_refusal_keeps_only_status_and_error_code(api: Recorder) -> None:
    with pytest.raises(GatewayError) as caught:
        gateway(api.url).send_text(TextMessage(INVALID_TO, "Your code is 493027"))
    message = str(caught.value)
    assert message == "twilio gateway twilio-main: refused (400, error 21211)"


def test_a_wrong_auth_token(api: Recorder) -> None:
    with pytest.raises(GatewayError, match=r"refused \(401, error 20003\)") as caught:
        gateway(api.url, auth_token="wrong-token-42").send_text(TextMessage(TO, "Code"))
    assert "wrong-token-42" not in str(caught.value)


def test_a_slow_api_times_out(api: Recorder) -> None:
    api.delay = 5
    started = time.monotonic()
    with pytest.raises(GatewayError, match=r"cannot reach the API \(ReadTimeout\)"):
        gateway(api.url, timeout=0.3).send_text(TextMessage(TO, "Code"))
    assert time.monotonic() - started < 2


def test_nothing_listening() -> None:
    with pytest.raises(GatewayError, match="cannot reach the API"):
        gateway(f"http://127.0.0.1:{free_port()}").send_text(TextMessage(TO, "Code"))


def test_channels_and_no_email() -> None:
    gw = gateway()
    assert gw.channels == frozenset({Channel.SMS})  # and calls: it is a CallPlacer
    with pytest.raises(GatewayError):
        gw.send_text(TextMessage("alice@example.com", "Code", Channel.EMAIL))


INBOUND_URL = "https://mfa.example.com/v1/gateways/g1/inbound"
CALL_URL = "https://mfa.example.com/v1/gateways/g1/call?ref=tx-9"


def _webhook(
    url: str, params: dict[str, str], token: str = TOKEN, *, parsed: bool = True
) -> WebhookRequest:
    """A request as Twilio makes it: form-encoded, signed with the auth token."""
    signature = RequestValidator(token).compute_signature(url, params)
    headers = {
        "x-twilio-signature": signature,
        "content-type": "application/x-www-form-urlencoded",
    }
    body = urlencode(params).encode()
    return WebhookRequest(url, "POST", headers, body, form=params if parsed else {})


SMS_PARAMS = {"From": TO, "To": FROM, "Body": "493027", "MessageSid": "SM" + "c" * 32}


@pytest.mark.parametrize("parsed", [True, False], ids=["form", "raw-body"])
def test_an_inbound_text(parsed: bool) -> None:
    got = gateway().inbound_text(_webhook(INBOUND_URL, SMS_PARAMS, parsed=parsed))
    assert (got.sender, got.body, got.provider_id) == (TO, "493027", "SM" + "c" * 32)


def test_a_tampered_inbound_text_is_refused() -> None:
    request = _webhook(INBOUND_URL, SMS_PARAMS)
    tampered = WebhookRequest(
        request.url, "POST", request.headers, request.body, form=SMS_PARAMS | {"Body": "000000"}
    )
    with pytest.raises(WebhookRefused):
        gateway().inbound_text(tampered)


def _signed_for(url: str) -> WebhookRequest:
    """Signed for ``url`` but received at INBOUND_URL (a replay at another gateway)."""
    request = _webhook(url, SMS_PARAMS)
    return WebhookRequest(INBOUND_URL, "POST", request.headers, request.body, request.form)


@pytest.mark.parametrize(
    "request_",
    [
        _webhook(INBOUND_URL, SMS_PARAMS, token="not-the-token"),
        _signed_for(INBOUND_URL.replace("g1", "g2")),
        WebhookRequest(INBOUND_URL, "POST", {}, b"", form=SMS_PARAMS),
    ],
    ids=["wrong-token", "other-url", "unsigned"],
)
def test_a_badly_signed_webhook_is_refused(request_: WebhookRequest) -> None:
    with pytest.raises(WebhookRefused):
        gateway().inbound_text(request_)


def test_keys_pressed_in_a_call() -> None:
    params = {"CallSid": "CA1", "Digits": "1234", "FinishedOnKey": "#", "CallStatus": "in-progress"}
    event = gateway().call_event(_webhook(CALL_URL, params))
    assert (event.reference, event.digits, event.status) == ("tx-9", "1234", "in-progress")


def test_only_pound_pressed() -> None:
    params = {"CallSid": "CA1", "Digits": "", "CallStatus": "in-progress"}
    assert gateway().call_event(_webhook(CALL_URL, params)).digits == ""


def test_a_call_status_update() -> None:
    url = "https://mfa.example.com/v1/gateways/g1/status?ref=tx-9"
    event = gateway().call_event(_webhook(url, {"CallSid": "CA1", "CallStatus": "no-answer"}))
    assert (event.reference, event.digits, event.status) == ("tx-9", None, "no-answer")


def test_a_signed_but_incomplete_text_is_invalid() -> None:
    with pytest.raises(InvalidInput):
        gateway().inbound_text(_webhook(INBOUND_URL, {"From": TO}))


def test_call_answer_is_twiml_that_hangs_up() -> None:
    answer = gateway().call_answer("Danke. Auf Wiedersehen.", "de-DE")
    assert answer.content_type == "application/xml"
    twiml = ElementTree.fromstring(answer.body)
    assert [child.tag for child in twiml] == ["Say", "Hangup"]
    say = twiml.find("Say")
    assert say is not None
    assert (say.text, say.attrib["language"]) == ("Danke. Auf Wiedersehen.", "de-DE")


def test_a_recording_is_played_in_place_of_the_words() -> None:
    answer = gateway().call_answer("Danke.", "de-DE", "https://mfa.example.com/v1/prompts/p1")
    twiml = ElementTree.fromstring(answer.body)
    assert [child.tag for child in twiml] == ["Play", "Hangup"]
    assert twiml[0].text == "https://mfa.example.com/v1/prompts/p1"


def test_keys_asked_again_gather_like_the_call() -> None:
    """A wrong PIN with tries left: the retry words, gathered until # to the same action."""
    call = VoiceCall(
        to=TO,
        caller_id=None,
        script="That PIN is not right. Enter your PIN, then press the pound key.",
        language="en-US",
        reference="tx-9",
        max_digits=9,
        callback_url="https://mfa.example.com/v1/gateways/g1/calls?ref=tx-9",
    )
    twiml = ElementTree.fromstring(gateway().call_again(call).body)
    assert [child.tag for child in twiml] == ["Gather", "Hangup"]
    gather = twiml[0]
    assert (gather.attrib["action"], gather.attrib["finishOnKey"]) == (call.callback_url, "#")
    assert [child.tag for child in gather] == ["Say"] and gather[0].text == call.script
    played = gateway().call_again(replace(call, audio_url="https://mfa.example.com/p/2"))
    gather = ElementTree.fromstring(played.body)[0]
    assert [child.tag for child in gather] == ["Play"]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"account_sid": "AC123"}, "account_sid"),
        ({"auth_token": None}, "auth_token"),
        ({"from_number": "0415 555 0100"}, "from_number"),
        ({"from_number": None}, "from_number"),
        ({"messaging_service_sid": "MGxyz"}, "messaging_service_sid"),
        ({"api_base": "api.twilio.com"}, "api_base"),
        ({"region": "ie1"}, "region"),
    ],
)
def test_check_refuses_bad_settings(settings: dict[str, Any], field: str) -> None:
    base = {"account_sid": SID, "auth_token": TOKEN, "from_number": FROM}
    with pytest.raises(InvalidSetting) as caught:
        GatewayRegistry().check("twilio", base | settings)
    assert caught.value.field == field


def test_check_normalises_the_number() -> None:
    checked = GatewayRegistry().check(
        "twilio", {"account_sid": SID, "auth_token": TOKEN, "from_number": "+1 (415) 555-0100"}
    )
    assert checked["from_number"] == FROM
    assert checked["timeout"] == 5.0
