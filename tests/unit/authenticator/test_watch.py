"""The watch loop in-process: retries, no busy polling, undelivered answers sent again."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.unit.authenticator.test_keystore import account
from twostep.authenticator.client import DeviceClient
from twostep.authenticator.errors import DeviceApiError
from twostep.authenticator.model import Decision
from twostep.authenticator.signing import DeviceKey
from twostep.authenticator.watch import Plan, Watcher

REQUEST = {"transaction_id": "tx_1", "nonce": "n", "integration": "vpn", "created_at": 1.0}


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def watcher(
    handler: Callable[[httpx.Request], httpx.Response], plan: Plan
) -> tuple[Watcher, FakeTime]:
    client = DeviceClient(
        "http://device-api.test",
        device_id="dev_1",
        key=DeviceKey.generate(),
        transport=httpx.MockTransport(handler),
    )
    clock = FakeTime()
    return Watcher(client, account(), plan, monotonic=clock.monotonic, sleep=clock.sleep), clock


def scripted(
    *replies: httpx.Response | Exception,
) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    calls: list[httpx.Request] = []
    queue = list(replies)

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise httpx.ConnectError(str(reply), request=request)
        return reply

    return handler, calls


def test_a_server_error_is_retried_with_backoff(capsys: pytest.CaptureFixture[str]) -> None:
    handler, calls = scripted(
        httpx.Response(503, text="busy"),
        httpx.Response(200, json={"requests": [REQUEST]}),
        httpx.Response(200, json={"result": "accept"}),
    )
    w, clock = watcher(handler, Plan(Decision.APPROVE, 42, once=True, timeout=100))
    assert w.run() == 0
    assert [c.method for c in calls] == ["GET", "GET", "POST"]
    assert clock.sleeps == [2.0]
    assert "retrying in 2 s" in capsys.readouterr().err


def test_a_client_error_ends_the_watch() -> None:
    handler, _ = scripted(httpx.Response(401, json={"error": {"code": "unauthenticated"}}))
    with pytest.raises(DeviceApiError):
        watcher(handler, Plan(Decision.DENY, timeout=10))[0].run()


def test_known_requests_are_not_polled_for_in_a_busy_loop() -> None:
    handler, calls = scripted(
        httpx.Response(200, json={"requests": [REQUEST]}),
        httpx.Response(404, json={"error": {"code": "transaction_not_found", "message": "x"}}),
        httpx.Response(200, json={"requests": [REQUEST]}),
    )
    w, clock = watcher(handler, Plan(Decision.DENY, timeout=5))
    assert w.run() == 1
    assert clock.now == pytest.approx(5)  # the refused answer
    gets = [c for c in calls if c.method == "GET"]
    assert 4 <= len(gets) <= 7  # about one a second, not thousands
    assert [c.method for c in calls].count("POST") == 1


def test_an_undelivered_answer_is_sent_again() -> None:
    handler, calls = scripted(
        httpx.Response(200, json={"requests": [REQUEST]}),
        ConnectionError("down"),
        httpx.Response(200, json={"requests": [REQUEST]}),
        httpx.Response(200, json={"result": "reject", "reason": "denied"}),
    )
    w, _ = watcher(handler, Plan(Decision.DENY, once=True, timeout=10))
    assert w.run() == 0
    assert [c.method for c in calls] == ["GET", "POST", "GET", "POST"]
