"""The generic HTTP gateway against a real HTTP server on loopback."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from tests.support.postgres import free_port
from tests.unit.adapters.gateways.conftest import Recorder
from twostep.adapters.gateways.common import sign
from twostep.adapters.gateways.http import HttpGateway
from twostep.adapters.gateways.registry import GatewayRegistry
from twostep.domain.delivery import (
    Channel,
    GatewayError,
    TextMessage,
    WebhookRefused,
    WebhookRequest,
)
from twostep.domain.errors import InvalidInput, InvalidSetting

REGISTRY = GatewayRegistry()
TO = "+14155550123"
CODE_TEXT = "Your code is 493027"
MESSAGE = TextMessage(to=TO, body=CODE_TEXT, sender="Twostep", reference="tx-1")
SECRET = "whsec-0123456789"


def gateway(url: str, **settings: Any) -> HttpGateway:
    """One object sends the texts and reads the replies."""
    built = REGISTRY.build("http", "sms-api", {"url": url, **settings})
    assert isinstance(built.texts, HttpGateway) and built.inbound_texts is built.texts
    return built.texts


def test_json_post_fills_the_template_and_headers(recorder: Recorder) -> None:
    gw = gateway(
        f"{recorder.url}/v1/sms",
        headers={"Authorization": "Bearer {api_key}", "X-Ref": "{reference}"},
        body={
            "to": "{to}",
            "msisdn": "{number}",
            "message": {"text": "{text}"},
            "from": "{sender}",
        },
        api_key="key-secret-1",
        id_field="messages.0.id",
    )
    recorder.answer = lambda _: (200, {"messages": [{"id": "m-77"}]})

    receipt = gw.send_text(MESSAGE)

    (req,) = recorder.requests
    assert (req.method, req.path) == ("POST", "/v1/sms")
    assert req.headers["content-type"] == "application/json"
    assert req.headers["authorization"] == "Bearer key-secret-1"
    assert req.headers["x-ref"] == "tx-1"
    assert req.json() == {
        "to": TO,
        "msisdn": "14155550123",
        "message": {"text": CODE_TEXT},
        "from": "Twostep",
    }
    assert (receipt.gateway, receipt.provider_id) == ("sms-api", "m-77")


def test_form_post_with_basic_auth_and_default_sender(recorder: Recorder) -> None:
    gw = gateway(
        recorder.url + "/send",
        body_format="form",
        body={"To": "{to}", "Body": "{text}", "From": "{sender}", "Flash": False, "Ttl": 300},
        sender="ACME",
        username="acct",
        password="pa:ss",
    )
    gw.send_text(TextMessage(to=TO, body=CODE_TEXT))

    (req,) = recorder.requests
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert req.form() == {
        "To": TO,
        "Body": CODE_TEXT,
        "From": "ACME",
        "Flash": "false",
        "Ttl": "300",
    }
    assert req.headers["authorization"] == "Basic " + base64.b64encode(b"acct:pa:ss").decode()


def test_get_sends_the_template_as_the_query_string(recorder: Recorder) -> None:
    gw = gateway(
        recorder.url + "/api", method="GET", body={"key": "{api_key}", "dest": "{to}"}, api_key="k1"
    )
    gw.send_text(MESSAGE)

    (req,) = recorder.requests
    assert (req.method, req.body) == ("GET", b"")
    assert req.query == {"key": "k1", "dest": TO}


def test_put_is_allowed(recorder: Recorder) -> None:
    gateway(recorder.url, method="PUT").send_text(MESSAGE)
    assert recorder.requests[0].method == "PUT"
    assert recorder.requests[0].json() == {"to": TO, "text": CODE_TEXT}  # the default body


def _assert_safe(message: str) -> None:
    """An error may be audited: no code, no full number, no credential."""
    assert "493027" not in message
    assert "4155550123" not in message
    assert "key-secret" not in message


@pytest.mark.parametrize("status", [400, 401, 500, 302])
def test_an_error_status_is_a_gateway_error(recorder: Recorder, status: int) -> None:
    recorder.answer = lambda _: (status, {"error": f"bad number {TO}, text {CODE_TEXT}"})
    with pytest.raises(GatewayError) as caught:
        gateway(recorder.url, api_key="key-secret-2").send_text(MESSAGE)
    assert str(status) in str(caught.value)
    assert "sms-api" in str(caught.value)
    _assert_safe(str(caught.value))


def test_expected_status_codes_replace_2xx(recorder: Recorder) -> None:
    recorder.answer = lambda _: (202, {"queued": True})
    gateway(recorder.url, success_status=[202]).send_text(MESSAGE)
    recorder.answer = lambda _: (200, {"queued": True})
    with pytest.raises(GatewayError, match="answered 200"):
        gateway(recorder.url, success_status=[202]).send_text(MESSAGE)


def test_success_field_must_hold_the_expected_value(recorder: Recorder) -> None:
    gw = gateway(recorder.url, success_field="result.status", success_value="sent", id_field="id")
    recorder.answer = lambda _: (200, {"result": {"status": "sent"}, "id": 12345})
    assert gw.send_text(MESSAGE).provider_id == "12345"

    recorder.answer = lambda _: (200, {"result": {"status": "rejected"}, "echo": CODE_TEXT})
    with pytest.raises(GatewayError, match=r"without result\.status") as caught:
        gw.send_text(MESSAGE)
    _assert_safe(str(caught.value))

    recorder.answer = lambda _: (200, "not json")
    with pytest.raises(GatewayError):
        gw.send_text(MESSAGE)


def test_a_non_json_answer_without_checks_is_fine(recorder: Recorder) -> None:
    recorder.answer = lambda _: (200, "OK: queued")
    assert gateway(recorder.url).send_text(MESSAGE).provider_id is None
    assert gateway(recorder.url, id_field="id").send_text(MESSAGE).provider_id is None


def test_a_slow_provider_times_out(recorder: Recorder) -> None:
    recorder.delay = 5
    started = time.monotonic()
    with pytest.raises(GatewayError, match=r"no answer within 0\.3 s"):
        gateway(recorder.url, timeout=0.3).send_text(MESSAGE)
    assert time.monotonic() - started < 2


def test_nothing_listening_is_a_gateway_error() -> None:
    with pytest.raises(GatewayError, match="cannot reach the provider"):
        gateway(f"http://127.0.0.1:{free_port()}/sms?key=key-secret-3").send_text(MESSAGE)


def test_the_url_query_never_shows_in_errors(recorder: Recorder) -> None:
    recorder.answer = lambda _: (500, {})
    with pytest.raises(GatewayError) as caught:
        gateway(recorder.url + "/sms?key=key-secret-4").send_text(MESSAGE)
    _assert_safe(str(caught.value))
    assert "127.0.0.1" in str(caught.value)


def test_no_calls_no_call_events_and_no_email() -> None:
    built = REGISTRY.build("http", "sms-api", {"url": "https://sms.example.net/send"})
    assert (built.calls, built.call_events) == (None, None)
    assert not hasattr(built.texts, "place_call")  # no stub either
    assert not hasattr(built.texts, "call_event")
    gw = gateway("https://sms.example.net/send")
    assert gw.channels == frozenset({Channel.SMS})
    with pytest.raises(GatewayError):
        gw.send_text(TextMessage(to="a@example.com", body="x", channel=Channel.EMAIL))


def _webhook(body: bytes, secret: str | None, content_type: str) -> WebhookRequest:
    headers = {"content-type": content_type}
    if secret is not None:
        headers["x-twostep-signature"] = sign(secret, body)
    return WebhookRequest("https://mfa.example/v1/gateways/g1/inbound", "POST", headers, body)


def test_inbound_json_with_configured_fields() -> None:
    gw = gateway(
        "https://sms.example.net/send",
        webhook_secret=SECRET,
        inbound_from_field="msg.sender",
        inbound_text_field="msg.content",
        inbound_id_field="msg.id",
    )
    body = json.dumps({"msg": {"sender": "+1 415 555 0123", "content": "493027", "id": 9}}).encode()
    got = gw.inbound_text(_webhook(body, SECRET, "application/json"))
    assert (got.sender, got.body, got.provider_id) == (TO, "493027", "9")


def test_inbound_form_with_default_fields() -> None:
    gw = gateway("https://sms.example.net/send", webhook_secret=SECRET)
    body = b"from=%2B14155550123&text=493027"
    got = gw.inbound_text(_webhook(body, SECRET, "application/x-www-form-urlencoded"))
    assert (got.sender, got.body) == (TO, "493027")


@pytest.mark.parametrize(
    ("secret", "tamper"),
    [("other-secret", False), (SECRET, True), (None, False)],
    ids=["wrong-secret", "tampered-body", "unsigned"],
)
def test_inbound_refuses_a_bad_signature(secret: str | None, tamper: bool) -> None:
    gw = gateway("https://sms.example.net/send", webhook_secret=SECRET)
    body = b'{"from": "+14155550123", "text": "493027"}'
    request = _webhook(body, secret, "application/json")
    if tamper:
        request = WebhookRequest(
            request.url, "POST", request.headers, body.replace(b"493027", b"000000")
        )
    with pytest.raises(WebhookRefused):
        gw.inbound_text(request)


def test_inbound_needs_a_webhook_secret() -> None:
    gw = gateway("https://sms.example.net/send")
    with pytest.raises(WebhookRefused, match="no webhook_secret"):
        gw.inbound_text(_webhook(b"{}", "anything", "application/json"))


def test_inbound_unreadable_is_invalid_input() -> None:
    gw = gateway("https://sms.example.net/send", webhook_secret=SECRET)
    with pytest.raises(InvalidInput):
        gw.inbound_text(_webhook(b"not json", SECRET, "application/json"))
    with pytest.raises(InvalidInput):
        gw.inbound_text(_webhook(b'{"from": "+14155550123"}', SECRET, "application/json"))


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"body": {"to": "{phone}"}}, "body"),
        ({"body": {"to": "{to.__class__}"}}, "body"),
        ({"headers": {"X-Key": "{secret}"}}, "headers"),
        ({"body": {"to": "{to"}}, "body"),
        ({"body_format": "form", "body": {"nested": {"a": "{to}"}}}, "body"),
        ({"success_field": "status"}, "success_field"),
        ({"success_status": [200, 999]}, "success_status"),
        ({"method": "DELETE"}, "method"),
        ({"url": "ftp://example.net/"}, "url"),
        ({"password": "p"}, "username"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_check_refuses_bad_settings(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSetting) as caught:
        REGISTRY.check("http", {"url": "https://sms.example.net/send", **settings})
    assert caught.value.field == field


def test_literal_braces_in_a_template(recorder: Recorder) -> None:
    gateway(recorder.url, body={"text": "{{code}}: {text}"}).send_text(MESSAGE)
    assert recorder.requests[0].json() == {"text": "{code}: " + CODE_TEXT}
