"""The development outbox: a JSON-lines file and a log line, and signed webhooks."""

from __future__ import annotations

import json
import logging
import stat
import threading
from pathlib import Path

import pytest

from twostep.adapters.gateways.common import sign
from twostep.adapters.gateways.outbox import OutboxGateway
from twostep.adapters.gateways.registry import GatewayRegistry
from twostep.domain.delivery import (
    Channel,
    GatewayError,
    TextMessage,
    VoiceCall,
    WebhookRefused,
    WebhookRequest,
)
from twostep.domain.errors import InvalidInput

TO = "+14155550123"
SECRET = "dev-webhook-secret"


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "spool" / "outbox.jsonl"


def gateway(path: Path, secret: str | None = SECRET) -> OutboxGateway:
    """The outbox does everything, with one object."""
    settings = {"path": str(path)} | ({"webhook_secret": secret} if secret else {})
    built = GatewayRegistry().build("outbox", "dev", settings)
    outbox = built.texts
    assert isinstance(outbox, OutboxGateway)
    assert built.calls is built.inbound_texts is built.call_events is outbox
    return outbox


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_text_is_one_json_line_in_a_private_file(
    outbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gw = gateway(outbox)
    with caplog.at_level(logging.INFO, logger="twostep.adapters.gateways.outbox"):
        receipt = gw.send_text(TextMessage(TO, "Your code is 493027", reference="tx-1"))

    (line,) = lines(outbox)
    assert line["to"] == TO
    assert line["body"] == "Your code is 493027"
    assert (line["channel"], line["gateway"], line["reference"]) == ("sms", "dev", "tx-1")
    assert line["id"] == receipt.provider_id
    assert receipt.gateway == "dev"
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o600

    (record,) = caplog.records
    logged = record.getMessage()
    assert logged == f"outbox: sms to +1 \u2022\u2022\u2022 0123 written to {outbox}"
    assert "493027" not in logged


def test_an_email_is_logged_with_a_masked_address(
    outbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    message = TextMessage("alice@example.com", "Code 493027", Channel.EMAIL, subject="Sign-in")
    with caplog.at_level(logging.INFO, logger="twostep.adapters.gateways.outbox"):
        gateway(outbox).send_text(message)
    assert lines(outbox)[0]["subject"] == "Sign-in"
    assert "a\u2022\u2022\u2022@example.com" in caplog.text
    assert "alice" not in caplog.text


def test_a_call_is_written_with_its_script_and_callback(outbox: Path) -> None:
    call = VoiceCall(
        to=TO,
        caller_id="+14155550100",
        script="Press pound to sign in.",
        language="en-US",
        reference="tx-2",
        max_digits=1,
        callback_url="https://mfa.example/v1/gateways/g1/call?ref=tx-2",
    )
    gateway(outbox).place_call(call)
    (line,) = lines(outbox)
    assert line["channel"] == "voice"
    assert line["script"] == "Press pound to sign in."
    assert line["callback_url"] == call.callback_url
    assert (line["caller_id"], line["max_digits"], line["status_url"]) == ("+14155550100", 1, None)


def test_lines_stay_whole_under_concurrent_writers(outbox: Path) -> None:
    gateways = [gateway(outbox), gateway(outbox)]  # two instances: the lock is not shared

    def write(i: int) -> None:
        for n in range(50):
            gateways[i % 2].send_text(TextMessage(TO, f"code {i}-{n} " + "x" * 500))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(lines(outbox)) == 200


def test_an_unwritable_outbox_is_a_gateway_error(tmp_path: Path) -> None:
    with pytest.raises(GatewayError, match="cannot write") as caught:
        gateway(tmp_path).send_text(TextMessage(TO, "Your code is 493027"))  # a directory
    assert "493027" not in str(caught.value)


def _signed(body: bytes, secret: str = SECRET) -> WebhookRequest:
    headers = {"content-type": "application/json", "x-twostep-signature": sign(secret, body)}
    return WebhookRequest("http://127.0.0.1:8000/v1/gateways/g1/inbound", "POST", headers, body)


def test_a_signed_reply_is_read(outbox: Path) -> None:
    got = gateway(outbox).inbound_text(_signed(b'{"from": "+1 (415) 555-0123", "text": "493027"}'))
    assert (got.sender, got.body) == (TO, "493027")


@pytest.mark.parametrize(
    "request_",
    [
        _signed(b'{"from": "+14155550123", "text": "1"}', "wrong-secret"),
        WebhookRequest("http://x/", "POST", {}, b'{"from": "+14155550123", "text": "1"}'),
        WebhookRequest(
            "http://x/", "POST", {"x-twostep-signature": "sha256=\u00e9"}, b"{}"
        ),  # not even ASCII
    ],
    ids=["wrong-secret", "unsigned", "non-ascii"],
)
def test_a_bad_signature_is_refused(outbox: Path, request_: WebhookRequest) -> None:
    with pytest.raises(WebhookRefused):
        gateway(outbox).inbound_text(request_)


def test_without_a_secret_every_webhook_is_refused(outbox: Path) -> None:
    with pytest.raises(WebhookRefused):
        gateway(outbox, secret=None).inbound_text(_signed(b'{"from": "+1", "text": "1"}'))


@pytest.mark.parametrize(
    ("body", "digits", "status"),
    [
        ({"reference": "tx-2", "digits": ""}, "", None),
        ({"reference": "tx-2", "digits": "0#"}, "0", None),
        ({"reference": "tx-2", "digits": "1234"}, "1234", None),
        ({"reference": "tx-2", "status": "no-answer"}, None, "no-answer"),
    ],
)
def test_call_events(
    outbox: Path, body: dict[str, str], digits: str | None, status: str | None
) -> None:
    event = gateway(outbox).call_event(_signed(json.dumps(body).encode()))
    assert (event.reference, event.digits, event.status) == ("tx-2", digits, status)


@pytest.mark.parametrize(
    "body",
    [b"[1]", b"{", b'{"digits": "1"}', b'{"reference": "t", "digits": "12a"}', b"\xff"],
)
def test_unreadable_webhooks_are_invalid_input(outbox: Path, body: bytes) -> None:
    with pytest.raises(InvalidInput):
        gateway(outbox).call_event(_signed(body))


def test_call_answer_is_plain_text(outbox: Path) -> None:
    answer = gateway(outbox).call_answer("Thank you. Goodbye.", "en-US")
    assert answer.content_type.startswith("text/plain")
    assert answer.body == b"Thank you. Goodbye."
