"""A stopping RADIUS server (draining) takes no new request but answers the ones in flight,
a request waiting for a push approval included, within the time it is given."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from pyrad.client import Timeout
from pyrad.packet import AccessAccept

from tests.integration.radius.conftest import add_client
from tests.integration.radius.test_challenges import approve
from tests.support import builders
from tests.support.devices import FakeDevice
from tests.support.radius import Running, ask, pyrad_client, running
from twostep.bootstrap import App

pytestmark = pytest.mark.usefixtures("backend")


def test_a_push_wait_in_flight_is_answered_and_new_requests_are_not(app: App) -> None:
    add_client(app, push_wait_seconds=10)
    builders.user(app, "alice")
    phone = FakeDevice.new().activate(app)
    with running(app) as server:
        waiting = pyrad_client(server.port)
        late = pyrad_client(server.port, timeout=1)
        late.retries = 1
        try:
            _drain_while_waiting(app, phone, server, waiting, late)
        finally:
            for client in (waiting, late):
                client._CloseSocket()


def _drain_while_waiting(
    app: App, phone: FakeDevice, server: Running, waiting: Any, late: Any
) -> None:
    answers: dict[str, Any] = {}

    def sign_in() -> None:
        answers["reply"] = ask(waiting, "alice", "push")

    asking = threading.Thread(target=sign_in)
    asking.start()
    time.sleep(0.5)  # the request waits for the approval
    server.server.drain()
    closing = asyncio.run_coroutine_threadsafe(server.server.close(10), server.loop)
    started = time.monotonic()
    with pytest.raises(Timeout):  # dropped: its NAS would ask its next server
        ask(late, "alice", "push")
    approve(app, phone, None, 0.5)  # the user approves while the server stops
    closing.result(timeout=15)  # returns once the request in flight was answered
    assert time.monotonic() - started < 8
    asking.join(timeout=15)
    assert answers["reply"].code == AccessAccept
