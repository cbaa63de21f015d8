"""Challenge mode as NASes that forward the password use it (OpenVPN's radiusplugin,
pfSense), and RADIUS States that are refused: every refusal answers Access-Reject and
writes its audit event, on SQLite and PostgreSQL, driven by FreeRADIUS's radclient and
radtest and by pyrad's client."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from pyrad.client import Client
from pyrad.packet import AccessAccept, AccessChallenge, AccessReject

from tests.integration.radius.conftest import add_client
from tests.integration.radius.test_challenges import approve
from tests.support import builders
from tests.support.devices import FakeDevice
from tests.support.fakes import FakeClock
from tests.support.radius import Running, ask, pyrad_client, radclient, radtest, running
from twostep.bootstrap import App
from twostep.domain.entities import RadiusMode
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

MA = "Message-Authenticator = 0x00"


def _pyrad(port: int) -> Client:
    return pyrad_client(port, timeout=10)


def events(app: App, user: str = "alice") -> list[tuple[str, str | None, str | None]]:
    return [(e.result, e.reason, e.detail) for e in app.audit.query(OPERATOR, "default", user=user)]


@pytest.fixture
def challenge_mode(app: App) -> Iterator[Running]:
    add_client(app, mode=RadiusMode.CHALLENGE, push_wait_seconds=5)
    with running(app) as server:
        yield server


@pytest.fixture
def nas(challenge_mode: Running) -> Iterator[Client]:
    client = _pyrad(challenge_mode.port)
    yield client
    client._CloseSocket()


class TestAForwardedPassword:
    """The first request of challenge mode carries the password the user typed."""

    def test_is_checked_when_the_user_has_one_then_the_challenge_follows(
        self, app: App, challenge_mode: Running, alice: builders.Enrolled
    ) -> None:
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
        first = radtest(challenge_mode.port, "alice", "correct horse")
        assert first.code == "Access-Challenge", first.output
        assert first.attributes["Reply-Message"] == ["Enter your verification code"]
        state = first.attributes["State"][0]
        code = alice.totp(app.deps.clock.now())
        second = radclient(
            challenge_mode.port,
            f'User-Name = "alice", User-Password = "{code}", State = {state}, {MA}',
        )
        assert second.code == "Access-Accept", second.output
        assert [e[:2] for e in events(app)] == [("challenge", None), ("accept", None)]

    def test_a_wrong_one_starts_nothing_and_counts_toward_lockout(
        self, app: App, challenge_mode: Running, alice: builders.Enrolled
    ) -> None:
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
        answer = radtest(challenge_mode.port, "alice", "battery staple")
        assert answer.code == "Access-Reject", answer.output
        assert "State" not in answer.attributes
        assert events(app) == [("reject", "invalid_password", None)]
        assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 1

    def test_is_ignored_when_the_user_has_none_and_is_never_taken_for_a_code(
        self, app: App, challenge_mode: Running, alice: builders.Enrolled
    ) -> None:
        # Six digits that happen to be the current code: still a password, not an answer.
        code = alice.totp(app.deps.clock.now())
        first = radtest(challenge_mode.port, "alice", code)
        assert first.code == "Access-Challenge", first.output
        assert events(app) == [("challenge", None, None)]
        assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 0

    def test_a_method_name_still_picks_the_method(
        self, app: App, nas: Client, alice: builders.Enrolled
    ) -> None:
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
        phone = FakeDevice.new().activate(app)
        reply = ask(nas, "alice", "push")
        assert reply.code == AccessChallenge
        assert reply["Reply-Message"][0].startswith("Open your authenticator app and enter")
        assert phone.id  # the push went to the one device


class TestRefusedStates:
    """Each refused State answers Access-Reject and writes one audit event."""

    def test_a_state_twostep_never_issued_even_with_nul_octets(
        self, app: App, nas: Client, alice: builders.Enrolled
    ) -> None:
        for forged in (b"\x00" * 8, b"abc\x00def", "é".encode() * 20, b"x" * 253):
            assert ask(nas, "alice", "123456", forged).code == AccessReject
        assert events(app) == [("reject", "invalid_code", "RADIUS State not issued by Twostep")] * 4

    def test_another_users_state(
        self, app: App, nas: Client, alice: builders.Enrolled, clock: FakeClock
    ) -> None:
        bob = builders.enrolled_user(app, "bob")
        state = ask(nas, "alice", "")["State"][0]
        assert ask(nas, "bob", bob.totp(clock.now()), state).code == AccessReject
        assert events(app, "bob") == [
            ("reject", "invalid_code", "RADIUS State issued for another user")
        ]

    def test_another_clients_state(
        self, app: App, challenge_mode: Running, alice: builders.Enrolled, clock: FakeClock
    ) -> None:
        # A second NAS on another loopback address, with a client of its own.
        add_client(app, name="wifi", network="127.0.0.2", mode=RadiusMode.CHALLENGE)
        asyncio.run_coroutine_threadsafe(
            challenge_mode.server.reload(), challenge_mode.loop
        ).result(timeout=10)
        vpn = _pyrad(challenge_mode.port)
        wifi = _pyrad(challenge_mode.port)
        wifi.bind(("127.0.0.2", 0))
        try:
            state = ask(vpn, "alice", "")["State"][0]
            assert ask(wifi, "alice", alice.totp(clock.now()), state).code == AccessReject
        finally:
            vpn._CloseSocket()
            wifi._CloseSocket()
        assert events(app)[-1] == (
            "reject",
            "invalid_code",
            "RADIUS State issued to another client",
        )

    def test_a_state_used_again(
        self, app: App, nas: Client, alice: builders.Enrolled, clock: FakeClock
    ) -> None:
        state = ask(nas, "alice", "")["State"][0]
        assert ask(nas, "alice", alice.totp(clock.now()), state).code == AccessAccept
        assert ask(nas, "alice", alice.totp(clock.now(), 1), state).code == AccessReject
        assert events(app)[-1] == ("reject", "code_replayed", "RADIUS State used again")

    def test_an_expired_state(
        self, app: App, nas: Client, alice: builders.Enrolled, clock: FakeClock
    ) -> None:
        state = ask(nas, "alice", "")["State"][0]
        clock.advance(121)
        assert ask(nas, "alice", alice.totp(clock.now()), state).code == AccessReject
        assert events(app)[-1] == ("reject", "timeout", "RADIUS State expired")

    def test_a_push_state_gives_its_accept_once(self, app: App, nas: Client) -> None:
        builders.user(app, "alice")
        phone = FakeDevice.new().activate(app)
        reply = ask(nas, "alice", "")
        number = int(reply["Reply-Message"][0].rsplit(" ", 1)[1])
        state = reply["State"][0]
        approver = threading.Thread(target=approve, args=(app, phone, number, 0.2))
        approver.start()
        assert ask(nas, "alice", "", state).code == AccessAccept
        approver.join(timeout=10)
        assert ask(nas, "alice", "", state).code == AccessReject
        assert events(app)[-1] == ("reject", "code_replayed", "RADIUS State used again")


def test_a_user_name_with_control_characters_is_refused_and_audited(
    app: App, challenge_mode: Running, alice: builders.Enrolled
) -> None:
    answer = radclient(
        challenge_mode.port, f'User-Name = "ali\\000ce", User-Password = "123456", {MA}'
    )
    assert answer.code == "Access-Reject", answer.output
    assert answer.attributes["Reply-Message"] == ["Invalid user name"]
    [event] = app.audit.query(OPERATOR, "default")
    assert (event.user, event.result, event.reason) == ("ali\\x00ce", "reject", "invalid_request")
    assert (event.interface, event.integration) == ("radius", "vpn")


def test_a_push_not_approved_within_the_wait_is_closed_so_a_late_approval_changes_nothing(
    app: App,
) -> None:
    add_client(app, name="rdg", network="127.0.0.1", push_wait_seconds=1)
    builders.user(app, "alice")
    phone = FakeDevice.new().activate(app)
    with running(app) as server:
        nas = _pyrad(server.port)
        try:
            assert ask(nas, "alice", "push").code == AccessReject
        finally:
            nas._CloseSocket()
    with app.storage.transaction() as tx:
        device = tx.devices.by_id(phone.id)
    assert device is not None
    assert app.push.requests(device) == []  # nothing left for the phone to approve
    assert [(e.result, e.reason) for e in app.audit.query(OPERATOR, "default")] == [
        ("challenge", None),
        ("reject", "timeout"),
    ]
