"""RADIUS client options as Azure MFA Server had them, against a real server on loopback:
primary passwords proxied to upstream RADIUS servers (pyrad), "require user match", the
OATH fallback, and retransmissions held while a push waits."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pyrad.packet import AccessAccept, AccessChallenge, AccessReject

from tests.integration.radius.conftest import add_client
from tests.support import builders
from tests.support.devices import FakeDevice
from tests.support.phones import LANDLINE, outbox, signed
from tests.support.radius import access_request, ask, pyrad_client, radclient, running
from tests.support.radius_upstream import UPSTREAM_SECRET, upstream_server
from twostep.bootstrap import App
from twostep.domain.audit import AuditQuery
from twostep.domain.entities import MethodKind, RadiusMode, RadiusPrimary
from twostep.interfaces.radius import packet
from twostep.services.admin import OPERATOR
from twostep.services.radius_options import NewUpstream

PASSWORDS = {"alice": "correct horse", "carol": "carol's password"}


@pytest.fixture
def nas() -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for client in made:
        client._CloseSocket()


def connect(made: list[Any], port: int) -> Any:
    made.append(pyrad_client(port))
    return made[-1]


def upstream(port: int, timeout: float = 2.0, secret: str = UPSTREAM_SECRET) -> NewUpstream:
    return NewUpstream("127.0.0.1", secret, port, timeout)


def outcomes(app: App, user: str) -> list[tuple[str, str | None]]:
    """The user's audit events as (result, reason), oldest first."""
    with app.storage.transaction() as tx:
        tenant = tx.tenants.by_name("default")
        assert tenant is not None
        events = tx.audit.query(AuditQuery(tenant_id=tenant.id, user=user))
    return [(e.result, e.reason) for e in events]


def reasons(app: App, user: str) -> list[str | None]:
    return [reason for _result, reason in outcomes(app, user)]


def answer_push(app: App, phone: FakeDevice, decision: str) -> None:
    """The user, a moment later, answers the push on the phone (bounded: 50 looks)."""
    with app.storage.transaction() as tx:
        device = tx.devices.by_id(phone.id)
    assert device is not None
    for _ in range(50):
        time.sleep(0.1)
        pending = app.push.requests(device)
        if pending:
            request = pending[0]
            signature = phone.answer(request.transaction_id, decision, None, request.nonce)
            app.push.answer(
                device, request.transaction_id, decision, None, request.nonce, signature
            )
            return


class TestUpstreamRadiusPrimary:
    def test_the_upstream_server_checks_the_password_before_the_second_factor(
        self, app: App, nas: list[Any]
    ) -> None:
        alice = builders.enrolled_user(app, "alice")
        with upstream_server(PASSWORDS) as up:
            add_client(
                app,
                mode=RadiusMode.CHALLENGE,
                primary=RadiusPrimary.RADIUS,
                upstreams=(upstream(up.port),),
            )
            with running(app) as server:
                radius = connect(nas, server.port)
                assert ask(radius, "alice", "wrong horse").code == AccessReject
                reply = ask(radius, "alice", "correct horse")
                assert reply.code == AccessChallenge
                code = alice.totp(app.deps.clock.now())
                assert ask(radius, "alice", code, reply["State"][0]).code == AccessAccept
            assert up.asked == ["alice", "alice"]
        assert "invalid_password" in reasons(app, "alice")

    def test_a_silent_server_moves_to_the_next_and_a_reject_is_final(
        self, app: App, nas: list[Any]
    ) -> None:
        builders.user(app, "alice")
        with (
            upstream_server(silent=True) as silent,
            upstream_server({}) as rejecting,
            upstream_server(PASSWORDS) as accepting,
        ):
            add_client(
                app,
                name="via-silent",
                network="127.0.0.1",
                mode=RadiusMode.CHALLENGE,
                primary=RadiusPrimary.RADIUS,
                require_user_match=False,
                upstreams=(upstream(silent.port, 0.5), upstream(accepting.port)),
            )
            add_client(
                app,
                name="via-reject",
                network="127.0.0.2",
                mode=RadiusMode.CHALLENGE,
                primary=RadiusPrimary.RADIUS,
                require_user_match=False,
                upstreams=(upstream(rejecting.port), upstream(accepting.port)),
            )
            with running(app, host="127.0.0.1") as server:
                radius = connect(nas, server.port)
                # alice has no method: accepted on the upstream's word alone (no user match)
                assert ask(radius, "alice", "correct horse").code == AccessAccept
                assert silent.asked == ["alice"] and accepting.asked == ["alice"]
                rejected = _from(server.port, "127.0.0.2", "alice", "correct horse")
                assert rejected == packet.ACCESS_REJECT
                assert rejecting.asked == ["alice"] and accepting.asked == ["alice"]

    def test_no_upstream_answering_fails_closed(self, app: App, nas: list[Any]) -> None:
        builders.enrolled_user(app, "alice")
        with upstream_server(silent=True) as silent:
            add_client(app, primary=RadiusPrimary.RADIUS, upstreams=(upstream(silent.port, 0.5),))
            with running(app) as server:
                reply = ask(connect(nas, server.port), "alice", "correct horse")
        assert reply.code == AccessReject
        assert reply["Reply-Message"] == ["The password cannot be checked now: try again later"]
        assert reasons(app, "alice")[-1] == "directory_unavailable"


def _from(port: int, source: str, user: str, password: str) -> int | None:
    """One Access-Request sent from ``source`` (another loopback address); the reply's code."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(10)
        sock.sendto(access_request(user, password), ("127.0.0.1", port))
        try:
            return sock.recv(4096)[0]
        except TimeoutError:
            return None


class TestRequireUserMatch:
    def test_on_an_unknown_or_unenrolled_user_is_rejected(self, app: App, nas: list[Any]) -> None:
        builders.user(app, "carol")  # known, no method
        with upstream_server(PASSWORDS) as up:
            add_client(app, primary=RadiusPrimary.RADIUS, upstreams=(upstream(up.port),))
            with running(app) as server:
                radius = connect(nas, server.port)
                assert ask(radius, "alice", "correct horse").code == AccessReject
                assert ask(radius, "carol", "carol's password").code == AccessReject
        assert reasons(app, "alice") == ["invalid_code"]
        assert reasons(app, "carol") == ["no_method_registered"]

    def test_off_they_are_accepted_after_the_primary_with_their_own_reason(
        self, app: App, nas: list[Any]
    ) -> None:
        builders.user(app, "carol")
        builders.enrolled_user(app, "dave")
        with upstream_server(PASSWORDS | {"dave": "dave's password"}) as up:
            add_client(
                app,
                primary=RadiusPrimary.RADIUS,
                require_user_match=False,
                upstreams=(upstream(up.port),),
            )
            with running(app) as server:
                radius = connect(nas, server.port)
                assert ask(radius, "alice", "correct horse").code == AccessAccept
                assert ask(radius, "carol", "carol's password").code == AccessAccept
                assert ask(radius, "carol", "wrong").code == AccessReject
                # An enrolled user still needs the second factor (a code here, none sent).
                assert ask(radius, "dave", "dave's password").code == AccessReject
        assert reasons(app, "alice") == ["user_match_not_required"]
        assert reasons(app, "carol") == ["user_match_not_required", "invalid_password"]
        assert reasons(app, "dave") == ["code_required"]

    def test_off_is_refused_without_a_primary_of_the_clients_own(self, app: App) -> None:
        from twostep.domain.errors import InvalidInput

        with pytest.raises(InvalidInput) as refused:
            add_client(app, require_user_match=False)
        assert refused.value.field == "require_user_match"


class TestOathFallback:
    def test_a_denied_push_asks_for_the_app_code(self, app: App, nas: list[Any]) -> None:
        alice = builders.enrolled_user(app, "alice")
        phone = FakeDevice.new().activate(app)
        add_client(app, push_wait_seconds=10, oath_fallback=True)
        with running(app) as server:
            radius = connect(nas, server.port)
            denier = threading.Thread(target=answer_push, args=(app, phone, "deny"))
            denier.start()
            reply = ask(radius, "alice", "push")
            denier.join(timeout=10)
            assert reply.code == AccessChallenge
            assert reply["Reply-Message"] == ["Enter the code from your authenticator app or token"]
            code = alice.totp(app.deps.clock.now())
            assert ask(radius, "alice", code, reply["State"][0]).code == AccessAccept
        assert outcomes(app, "alice") == [
            ("challenge", None),  # the push sent
            ("reject", "denied"),
            ("challenge", None),  # the code asked for
            ("accept", None),
        ]

    def test_an_unanswered_push_asks_for_the_token_code(self, app: App, nas: list[Any]) -> None:
        alice = builders.enrolled_user(app, "alice")
        FakeDevice.new().activate(app)
        add_client(app, mode=RadiusMode.CHALLENGE, push_wait_seconds=1, oath_fallback=True)
        with running(app) as server:
            radius = connect(nas, server.port)
            started = ask(radius, "alice", "push")  # challenge mode: the number to match
            assert started.code == AccessChallenge
            # Pressed Enter without approving: still pending, asked again...
            again = ask(radius, "alice", "", started["State"][0])
            assert again.code == AccessChallenge
            assert again["Reply-Message"] == ["Approve the sign-in, then press Enter"]
            app.deps.clock.advance(600)  # ...until the push expires: the code is asked for
            reply = ask(radius, "alice", "", again["State"][0])
            assert reply.code == AccessChallenge, reply.get("Reply-Message")
            assert reply["Reply-Message"] == ["Enter the code from your authenticator app or token"]
            code = alice.totp(app.deps.clock.now())
            assert ask(radius, "alice", code, reply["State"][0]).code == AccessAccept
        assert ("reject", "timeout") in outcomes(app, "alice")

    def test_a_call_not_answered_asks_for_the_token_code(self, app: App, nas: list[Any]) -> None:
        alice = builders.enrolled_user(app, "alice")
        app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.VOICE, LANDLINE)
        add_client(app, push_wait_seconds=10, oath_fallback=True)

        def hang_up() -> None:  # the call rings out: the provider reports no-answer
            for _ in range(50):
                time.sleep(0.1)
                calls = [r for r in outbox(app) if r.get("channel") == "voice"]
                if calls:
                    data = {"reference": calls[-1]["reference"], "status": "no-answer"}
                    app.delivered.call_event("outbox", signed(app, data))
                    return

        with running(app) as server:
            radius = connect(nas, server.port)
            caller = threading.Thread(target=hang_up)
            caller.start()
            reply = ask(radius, "alice", "voice")
            caller.join(timeout=10)
            assert reply.code == AccessChallenge
            code = alice.totp(app.deps.clock.now())
            assert ask(radius, "alice", code, reply["State"][0]).code == AccessAccept
        assert ("reject", "call_not_answered") in outcomes(app, "alice")

    def test_off_a_denied_push_is_a_reject(self, app: App, nas: list[Any]) -> None:
        builders.enrolled_user(app, "alice")
        phone = FakeDevice.new().activate(app)
        add_client(app, push_wait_seconds=10)
        with running(app) as server:
            denier = threading.Thread(target=answer_push, args=(app, phone, "deny"))
            denier.start()
            reply = ask(connect(nas, server.port), "alice", "push")
            denier.join(timeout=10)
        assert reply.code == AccessReject


class TestRetransmissions:
    def test_copies_sent_while_a_push_waits_start_nothing_and_get_the_one_reply(
        self, app: App
    ) -> None:
        builders.user(app, "alice")
        phone = FakeDevice.new().activate(app)
        add_client(app, push_wait_seconds=10)
        request = access_request("alice", "push", ident=42, authenticator=b"r" * 16)
        with (
            running(app) as server,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        ):
            sock.settimeout(0.5)
            sock.sendto(request, ("127.0.0.1", server.port))
            for _ in range(3):  # the NAS retransmits while the user looks at the phone
                time.sleep(0.3)
                sock.sendto(request, ("127.0.0.1", server.port))
            with pytest.raises(TimeoutError):
                sock.recv(4096)  # no early answer
            with app.storage.transaction() as tx:
                device = tx.devices.by_id(phone.id)
            assert device is not None
            assert len(app.push.requests(device)) == 1  # one push, not four
            answer_push(app, phone, "approve")
            sock.settimeout(10)
            first = sock.recv(4096)
            assert first[0] == packet.ACCESS_ACCEPT
            sock.sendto(request, ("127.0.0.1", server.port))  # a copy that crossed the reply
            assert sock.recv(4096) == first
        assert outcomes(app, "alice") == [("challenge", None), ("accept", None)]  # once


def test_radclient_retrying_while_a_push_waits_gets_one_push_and_the_accept(app: App) -> None:
    """radclient -r 8 -t 1: the same request (Identifier, Authenticator) sent again every
    second while the user approves after about two and a half."""
    builders.user(app, "alice")
    phone = FakeDevice.new().activate(app)
    add_client(app, push_wait_seconds=10)
    with running(app) as server:
        approver = threading.Thread(target=_approve_later, args=(app, phone))
        approver.start()
        answer = radclient(
            server.port,
            'User-Name = "alice", User-Password = "push", Message-Authenticator = 0x00',
            retries=8,  # up to 8 s: the approval comes well before
            timeout=1.0,
        )
        approver.join(timeout=10)
    assert answer.code == "Access-Accept", answer.output
    assert answer.output.count("Sent Access-Request") >= 2, answer.output  # it did retry
    assert outcomes(app, "alice") == [("challenge", None), ("accept", None)]  # one push


def _approve_later(app: App, phone: FakeDevice) -> None:
    time.sleep(2.5)
    answer_push(app, phone, "approve")
