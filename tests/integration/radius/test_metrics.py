"""RADIUS in the metrics: datagrams received, dropped by cause, answered by code, and the
time to answer, as a scrape of /metrics reads them."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from tests.integration.radius.conftest import add_client
from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.metrics import TOKEN, Scrape, parse
from tests.support.radius import access_request, exchange, running
from twostep.adapters.metrics import PrometheusMetrics
from twostep.bootstrap import App, build
from twostep.config import Config

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def counted(config: Config, clock: FakeClock) -> Iterator[App]:
    server = config.server.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    wired = build(
        config.model_copy(update={"server": server}), clock=clock, metrics=PrometheusMetrics()
    )
    wired.admin.ensure_default_tenant()
    yield wired
    wired.close()


def _scrape(app: App) -> Scrape:
    assert app.metrics is not None
    return parse(app.metrics.render()[0].decode())


def test_packets_received_dropped_and_answered(counted: App) -> None:
    alice = builders.enrolled_user(counted)
    add_client(counted, require_message_authenticator=True)
    with running(counted) as radius:
        port = radius.port
        accept = access_request("alice", alice.totp(counted.deps.clock.now()), ident=1)
        assert exchange(port, accept) is not None
        assert exchange(port, access_request("alice", "000000", ident=2)) is not None
        # Dropped: junk, a wrong shared secret, no Message-Authenticator.
        assert exchange(port, b"\x01\x02junk", timeout=0.3) is None
        wrong = access_request("alice", "000000", secret="not-the-secret-" + "y" * 20)
        assert exchange(port, wrong, timeout=0.3) is None
        bare = access_request("alice", "000000", message_authenticator=False)
        assert exchange(port, bare, timeout=0.3) is None
        # A retransmission of the first request, from the same source port: the cached reply.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(2)
            again = access_request("alice", "111111", ident=3)
            for _ in range(2):
                sock.sendto(again, ("127.0.0.1", port))
                assert sock.recv(4096)
        scrape = _scrape(counted)

    assert scrape.value("twostep_radius_packets_received_total") == 7
    dropped = "twostep_radius_packets_dropped_total"
    assert scrape.value(dropped, cause="malformed") == 1
    assert scrape.value(dropped, cause="bad_authenticator") == 1
    assert scrape.value(dropped, cause="no_authenticator") == 1
    assert scrape.value(dropped) == 3
    answered = "twostep_radius_packets_answered_total"
    assert scrape.value(answered, code="accept") == 1
    assert scrape.value(answered, code="reject") == 3  # the duplicate's reply counts as sent
    # The duplicate was not decided again: three decisions were timed, three audited.
    assert scrape.value("twostep_radius_request_duration_seconds_count") == 3
    validations = "twostep_validations_total"
    assert scrape.value(validations, interface="radius", result="accept", method="app_code") == 1
    assert scrape.value(validations, interface="radius", reason="invalid_code") == 2


def test_a_datagram_from_an_unknown_address_is_dropped_as_such(counted: App) -> None:
    with running(counted) as radius:  # no client at all
        assert exchange(radius.port, access_request("alice", "000000"), timeout=0.3) is None
        scrape = _scrape(counted)
    dropped = "twostep_radius_packets_dropped_total"
    assert scrape.value(dropped, cause="unknown_client") == 1
    assert scrape.value("twostep_radius_packets_answered_total") == 0
