"""Each RADIUS request has an id of its own: in its audit event and in every log line
made while it is decided (on SQLite on the event loop, on PostgreSQL in a thread)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pyrad.client import Client, Timeout
from pyrad.packet import AccessAccept, AccessReject

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.logs import captured
from tests.support.radius import Running, ask, pyrad_client
from twostep.bootstrap import App
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def nas(radius: Running) -> Iterator[Client]:
    client = pyrad_client(radius.port, timeout=10)
    yield client
    client._CloseSocket()


def test_a_radius_requests_id_is_in_its_audit_event_and_its_log_lines(
    app: App, nas: Client, alice: builders.Enrolled, clock: FakeClock
) -> None:
    with captured() as logs:
        assert ask(nas, "alice", alice.totp(clock.now())).code == AccessAccept
        assert ask(nas, "alice", "123456", b"not-a-state").code == AccessReject
    accepted, refused = app.audit.query(OPERATOR, "default", user="alice")
    assert (accepted.result, accepted.interface) == ("accept", "radius")
    assert (refused.result, refused.detail) == ("reject", "RADIUS State not issued by Twostep")
    assert accepted.request_id and re.fullmatch(r"[0-9a-f]{32}", accepted.request_id)
    assert refused.request_id and re.fullmatch(r"[0-9a-f]{32}", refused.request_id)
    assert accepted.request_id != refused.request_id
    said = [x for x in logs.lines() if x["message"].startswith("refused a RADIUS State")]
    assert [x.get("request_id") for x in said] == [refused.request_id]
    assert all(x["node"] == "node-a" for x in logs.lines())


def test_a_request_that_fails_is_logged_with_its_id(
    app: App, radius: Running, alice: builders.Enrolled, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_request: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.signin, "sign_in", broken)
    client = pyrad_client(radius.port, timeout=0.5)

    def failed() -> list[dict[str, Any]]:
        return [x for x in logs.lines() if x["message"] == "RADIUS request from 127.0.0.1 failed"]

    try:
        with captured() as logs:
            with pytest.raises(Timeout):  # no reply: the NAS retries
                ask(client, "alice", "123456")
            # The server's thread may log after the NAS gave up (a busy machine): wait for it.
            deadline = time.monotonic() + 10
            while not failed() and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        client._CloseSocket()
    logged = failed()
    assert logged, logs.lines()
    assert re.fullmatch(r"[0-9a-f]{32}", logged[0]["request_id"])
    assert "RuntimeError: a bug" in logged[0]["exception"]
