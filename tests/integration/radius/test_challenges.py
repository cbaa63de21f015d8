"""RADIUS challenge-response, method selection and push, with pyrad's client and radclient."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from pyrad.client import Client
from pyrad.packet import AccessAccept, AccessChallenge, AccessReject

from tests.integration.radius.conftest import add_client
from tests.support import builders
from tests.support.devices import FakeDevice
from tests.support.fakes import FakeClock
from tests.support.phones import MOBILE, code_of, outbox
from tests.support.radius import Running, ask, pyrad_client, radclient, running
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind, RadiusMode
from twostep.services.admin import OPERATOR

ClientAt = Callable[[int], Client]


@pytest.fixture
def client() -> Iterator[ClientAt]:
    """pyrad's client for a server port (closed after the test)."""
    made: list[Client] = []

    def at(port: int) -> Client:
        made.append(pyrad_client(port))
        return made[-1]

    yield at
    for c in made:
        c._CloseSocket()


@pytest.fixture
def challenge_mode(app: App) -> Iterator[Running]:
    add_client(app, mode=RadiusMode.CHALLENGE, push_wait_seconds=10)
    with running(app) as server:
        yield server


class TestChallengeMode:
    def test_a_code_method_is_asked_for_in_a_challenge(
        self, app: App, challenge_mode: Running, client: ClientAt, alice: builders.Enrolled
    ) -> None:
        radius = client(challenge_mode.port)
        reply = ask(radius, "alice", "")
        assert reply.code == AccessChallenge
        assert reply["Reply-Message"] == ["Enter your verification code"]
        state = reply["State"][0]
        code = alice.totp(app.deps.clock.now())
        assert ask(radius, "alice", code, state).code == AccessAccept
        # The State is single use.
        assert ask(radius, "alice", alice.totp(app.deps.clock.now(), 1), state).code == AccessReject

    def test_a_state_is_bound_to_its_user_and_expires(
        self,
        app: App,
        challenge_mode: Running,
        client: ClientAt,
        alice: builders.Enrolled,
        clock: FakeClock,
    ) -> None:
        bob = builders.enrolled_user(app, "bob")
        radius = client(challenge_mode.port)
        state = ask(radius, "alice", "")["State"][0]
        assert ask(radius, "bob", bob.totp(clock.now()), state).code == AccessReject
        state = ask(radius, "alice", "")["State"][0]
        clock.advance(121)
        assert ask(radius, "alice", alice.totp(clock.now()), state).code == AccessReject

    def test_an_sms_code_through_a_challenge(
        self, app: App, challenge_mode: Running, client: Client
    ) -> None:
        builders.user(app, "alice")
        app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, MOBILE)
        radius = client(challenge_mode.port)
        reply = ask(radius, "alice", "")
        assert reply.code == AccessChallenge
        assert reply["Reply-Message"] == ["Enter the code sent to +1 \u2022\u2022\u2022 0123"]
        state = reply["State"][0]
        assert ask(radius, "alice", code_of(app, state.decode()), state).code == AccessAccept

    def test_the_user_may_type_another_method_in_answer(
        self, app: App, challenge_mode: Running, client: ClientAt, alice: builders.Enrolled
    ) -> None:
        app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, MOBILE)
        radius = client(challenge_mode.port)
        first = ask(radius, "alice", "")["State"][0]  # the default: the app's code
        reply = ask(radius, "alice", "sms", first)
        assert reply.code == AccessChallenge
        assert reply["Reply-Message"][0].startswith("Enter the code sent to")
        sms_state = reply["State"][0]
        assert sms_state != first
        assert (
            ask(radius, "alice", code_of(app, sms_state.decode()), sms_state).code == AccessAccept
        )

    def test_push_shows_the_number_and_waits_for_approval(
        self, app: App, challenge_mode: Running, client: Client
    ) -> None:
        builders.user(app, "alice")
        phone = FakeDevice.new().activate(app)
        radius = client(challenge_mode.port)
        reply = ask(radius, "alice", "")
        assert reply.code == AccessChallenge
        message = reply["Reply-Message"][0]
        assert message.startswith("Open your authenticator app and enter ")
        number = int(message.rsplit(" ", 1)[1])
        approver = threading.Thread(target=approve, args=(app, phone, number, 0.5))
        approver.start()
        assert ask(radius, "alice", "", reply["State"][0]).code == AccessAccept
        approver.join(timeout=10)


class TestPushWithoutChallenges:
    """RD Gateway and other clients that cannot show a challenge: the request waits."""

    def test_typing_push_waits_for_the_approval(self, app: App, client: ClientAt) -> None:
        add_client(app, push_wait_seconds=10)
        builders.user(app, "alice")
        phone = FakeDevice.new().activate(app)
        with running(app) as server:
            approver = threading.Thread(target=approve, args=(app, phone, None, 0.5))
            approver.start()
            started = time.monotonic()
            assert ask(client(server.port), "alice", "push").code == AccessAccept
            assert time.monotonic() - started < 8
            approver.join(timeout=10)

    def test_password_then_push_waits_for_the_approval(self, app: App, client: ClientAt) -> None:
        add_client(app, mode=RadiusMode.PASSWORD_AND_CODE, push_wait_seconds=10)
        builders.user(app, "alice")
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
        phone = FakeDevice.new().activate(app)
        with running(app) as server:
            radius = client(server.port)
            assert ask(radius, "alice", "wrong horse,push").code == AccessReject
            approver = threading.Thread(target=approve, args=(app, phone, None, 0.5))
            approver.start()
            assert ask(radius, "alice", "correct horse,push").code == AccessAccept
            approver.join(timeout=10)

    def test_no_text_is_sent_where_its_code_cannot_be_typed(
        self, app: App, client: ClientAt
    ) -> None:
        add_client(app)
        builders.user(app, "alice")
        app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, MOBILE)
        with running(app) as server:
            reply = ask(client(server.port), "alice", "sms")
        assert reply.code == AccessReject
        assert reply["Reply-Message"] == ["That verification method is not available here"]
        assert outbox(app) == []

    def test_no_approval_within_the_wait_rejects(self, app: App, client: ClientAt) -> None:
        add_client(app, push_wait_seconds=1)
        builders.user(app, "alice")
        FakeDevice.new().activate(app)
        with running(app) as server:
            reply = ask(client(server.port), "alice", "push")
            assert reply.code == AccessReject


def test_radclient_answers_a_challenge(
    app: App, challenge_mode: Running, alice: builders.Enrolled
) -> None:
    first = radclient(
        challenge_mode.port, 'User-Name = "alice", User-Password = "", Message-Authenticator = 0x00'
    )
    assert first.code == "Access-Challenge", first.output
    state = first.attributes["State"][0]
    code = alice.totp(app.deps.clock.now())
    second = radclient(
        challenge_mode.port,
        f'User-Name = "alice", User-Password = "{code}", State = {state}, '
        "Message-Authenticator = 0x00",
    )
    assert second.code == "Access-Accept", second.output


def approve(app: App, phone: FakeDevice, number: int | None, after: float) -> None:
    """The user, a moment later, approves on the phone (bounded: 50 looks)."""
    with app.storage.transaction() as tx:
        device = tx.devices.by_id(phone.id)
    assert device is not None
    for _ in range(50):
        time.sleep(after / 5)
        pending = app.push.requests(device)
        if pending:
            request = pending[0]
            signature = phone.answer(request.transaction_id, "approve", number, request.nonce)
            app.push.answer(
                device, request.transaction_id, "approve", number, request.nonce, signature
            )
            return
