"""ntfy / UnifiedPush against a local HTTP server that takes topic POSTs like ntfy does."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.fake_twilio import Recorder, serving
from tests.support.postgres import free_port
from twostep.adapters.gateways.push_ntfy import NtfyNotifier
from twostep.domain.delivery import ChannelGone, GatewayError, PushNotifier
from twostep.domain.errors import InvalidInput, InvalidSetting

PAYLOAD = b'{"type":"request"}'
TOKEN = "tk_0123456789abcdefghijklmnopqrs"


def ntfy_answer(_: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"id": "hwQ2YpKdmg", "time": 1795000000, "event": "message", "topic": "t"}


def test_the_payload_is_posted_to_the_topic_with_the_token(recorder: Recorder) -> None:
    recorder.answer = ntfy_answer
    notifier: PushNotifier = NtfyNotifier(server=recorder.url, token=TOKEN)
    channel = notifier.check_channel({"url": f"{recorder.url}/twostep_Xk29fQ?up=1"})

    notifier.notify(channel, PAYLOAD)

    (req,) = recorder.requests
    assert (req.method, req.path, req.query) == ("POST", "/twostep_Xk29fQ", {"up": "1"})
    assert req.body == PAYLOAD
    assert req.headers["authorization"] == f"Bearer {TOKEN}"


def test_the_token_goes_to_its_own_server_only(recorder: Recorder) -> None:
    recorder.answer = ntfy_answer
    with serving() as elsewhere:
        elsewhere.answer = ntfy_answer
        notifier = NtfyNotifier(server=f"{recorder.url}/", token=TOKEN)

        notifier.notify({"url": f"{elsewhere.url}/topic"}, PAYLOAD)
        notifier.notify({"url": f"{recorder.url}/topic"}, PAYLOAD)

    assert "authorization" not in elsewhere.requests[0].headers
    assert elsewhere.requests[0].body == PAYLOAD
    assert recorder.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_without_a_token_no_authorization_is_sent(recorder: Recorder) -> None:
    recorder.answer = ntfy_answer

    NtfyNotifier().notify({"url": f"{recorder.url}/topic"}, PAYLOAD)

    assert "authorization" not in recorder.requests[0].headers


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_endpoint_raises_channel_gone(recorder: Recorder, status: int) -> None:
    recorder.answer = lambda _: (status, {"code": 40401, "error": "not found"})

    with pytest.raises(ChannelGone, match=str(status)):
        NtfyNotifier().notify({"url": f"{recorder.url}/up-secret-topic"}, PAYLOAD)


@pytest.mark.parametrize("status", [401, 403, 429, 500])
def test_a_refusal_is_a_gateway_error_showing_the_host_only(
    recorder: Recorder, status: int
) -> None:
    recorder.answer = lambda _: (status, {"error": "no"})
    notifier = NtfyNotifier(server=recorder.url, token=TOKEN)

    with pytest.raises(GatewayError) as caught:
        notifier.notify({"url": f"{recorder.url}/up-secret-topic"}, PAYLOAD)

    message = str(caught.value)
    assert not isinstance(caught.value, ChannelGone)
    assert str(status) in message and "127.0.0.1" in message
    assert "up-secret-topic" not in message and TOKEN not in message


def test_a_slow_server_times_out(recorder: Recorder) -> None:
    recorder.delay = 5

    started = time.monotonic()
    with pytest.raises(GatewayError, match=r"no answer within 0\.3 s"):
        NtfyNotifier(timeout=0.3).notify({"url": f"{recorder.url}/topic"}, PAYLOAD)
    assert time.monotonic() - started < 3


def test_an_unreachable_server_is_a_gateway_error() -> None:
    with pytest.raises(GatewayError, match="cannot reach"):
        NtfyNotifier().notify({"url": f"http://127.0.0.1:{free_port()}/topic"}, PAYLOAD)


def test_check_channel_takes_https_and_loopback_http() -> None:
    notifier = NtfyNotifier()
    for url in ("https://ntfy.sh/twostep_Xk29fQ", "http://127.0.0.1:2586/t", "http://localhost/t"):
        assert notifier.check_channel({"url": url}) == {"url": url}


@pytest.mark.parametrize(
    "channel",
    [
        {},
        {"url": ""},
        {"url": 5},
        {"url": "http://ntfy.example.net/topic"},
        {"url": "https://user:pass@ntfy.example.net/topic"},
        {"url": "https://ntfy.example.net:99999/topic"},
        {"url": "ntfy.example.net/topic"},
        {"url": "https://ntfy.example.net/" + "t" * 3000},
        {"url": "https://ntfy.sh/t", "token": "x"},
    ],
)
def test_check_channel_refuses_a_bad_topic(channel: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        NtfyNotifier().check_channel(channel)


def test_a_token_without_its_server_is_a_setting_error() -> None:
    with pytest.raises(InvalidSetting, match="ntfy_server"):
        NtfyNotifier(token=TOKEN)
    with pytest.raises(InvalidSetting, match="ntfy_server"):
        NtfyNotifier(server="ntfy.example.net", token=TOKEN)
