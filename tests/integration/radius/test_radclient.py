"""The RADIUS server driven by FreeRADIUS's own radclient and radtest, as a NAS would."""

from __future__ import annotations

from tests.integration.radius.conftest import add_client
from tests.support import builders
from tests.support.radius import Running, radclient, radtest, running
from twostep.bootstrap import App
from twostep.domain.entities import MfaState, RadiusMode
from twostep.services.admin import OPERATOR

MA = "Message-Authenticator = 0x00"  # radclient computes it


def _events(app: App, user: str = "alice") -> list[tuple[str, str | None]]:
    found = app.audit.query(OPERATOR, "default", user=user)
    return [(e.result, e.reason) for e in found]


def test_second_factor_accepts_a_valid_code(
    app: App, radius: Running, alice: builders.Enrolled
) -> None:
    code = alice.totp(app.deps.clock.now())
    answer = radclient(
        radius.port,
        f'User-Name = "alice", User-Password = "{code}", Calling-Station-Id = "203.0.113.7", {MA}',
    )
    assert answer.code == "Access-Accept", answer.output
    assert answer.returncode == 0
    [event] = app.audit.query(OPERATOR, "default", user="alice")
    assert (event.result, event.interface, event.integration) == ("accept", "radius", "vpn")
    assert event.client_ip == "203.0.113.7"
    assert event.server_name == "node-a"


def test_a_wrong_code_is_rejected_with_a_reply_message(
    app: App, radius: Running, alice: builders.Enrolled
) -> None:
    answer = radclient(
        radius.port,
        f'User-Name = "alice", User-Password = "000000", NAS-IP-Address = 192.0.2.9, {MA}',
    )
    assert answer.code == "Access-Reject", answer.output
    assert answer.attributes["Reply-Message"] == ["Invalid verification code"]
    [event] = app.audit.query(OPERATOR, "default", user="alice")
    assert (event.result, event.reason, event.client_ip) == ("reject", "invalid_code", "192.0.2.9")
    assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 1


def test_a_replayed_code_is_rejected(app: App, radius: Running, alice: builders.Enrolled) -> None:
    code = alice.totp(app.deps.clock.now())
    attributes = f'User-Name = "alice", User-Password = "{code}", {MA}'
    assert radclient(radius.port, attributes).code == "Access-Accept"
    assert radclient(radius.port, attributes).code == "Access-Reject"
    assert _events(app) == [("accept", None), ("reject", "code_replayed")]


def test_an_unknown_user_is_rejected_like_a_wrong_code(app: App, radius: Running) -> None:
    answer = radclient(radius.port, f'User-Name = "mallory", User-Password = "123456", {MA}')
    assert answer.code == "Access-Reject"
    assert answer.attributes["Reply-Message"] == ["Invalid verification code"]
    assert _events(app, "mallory") == [("reject", "invalid_code")]


def test_radtest_is_answered(app: App, radius: Running, alice: builders.Enrolled) -> None:
    answer = radtest(radius.port, "alice", alice.totp(app.deps.clock.now()))
    assert answer.code == "Access-Accept", answer.output


def test_every_reply_carries_a_valid_message_authenticator_first(
    app: App, radius: Running, alice: builders.Enrolled
) -> None:
    # radclient checks the Response Authenticator and the Message-Authenticator of every
    # reply and discards a reply that fails; its output lists the attributes in order.
    answer = radclient(radius.port, f'User-Name = "alice", User-Password = "1", {MA}')
    assert answer.code == "Access-Reject", answer.output
    assert next(iter(answer.attributes)) == "Message-Authenticator"


def test_a_request_without_message_authenticator_is_dropped(
    app: App, radius: Running, alice: builders.Enrolled
) -> None:
    code = alice.totp(app.deps.clock.now())
    answer = radclient(radius.port, f'User-Name = "alice", User-Password = "{code}"', retries=1)
    assert answer.code is None and "No reply" in answer.output
    assert _events(app) == []  # nothing decided, nothing spent
    assert radius.server.handler.dropped >= 1


def test_a_client_may_be_allowed_to_omit_message_authenticator(
    app: App, alice: builders.Enrolled
) -> None:
    add_client(app, require_message_authenticator=False, limit_proxy_state=True)
    code = alice.totp(app.deps.clock.now())
    with running(app) as radius:
        answer = radclient(radius.port, f'User-Name = "alice", User-Password = "{code}"')
        assert answer.code == "Access-Accept", answer.output
        # limit_proxy_state: Proxy-State without Message-Authenticator is dropped...
        spoofed = f'User-Name = "alice", User-Password = "{code}", Proxy-State = 0x41'
        assert radclient(radius.port, spoofed).code is None
        # ...and with it, Proxy-State is echoed back.
        proxied = radclient(
            radius.port, f'User-Name = "alice", User-Password = "1", Proxy-State = 0x4142, {MA}'
        )
        assert proxied.code == "Access-Reject"
        assert proxied.attributes["Proxy-State"] == ["0x4142"]


def test_an_unknown_client_gets_no_answer(app: App, alice: builders.Enrolled) -> None:
    add_client(app, network="127.0.0.2/32")
    with running(app) as radius:
        code = alice.totp(app.deps.clock.now())
        answer = radclient(radius.port, f'User-Name = "alice", User-Password = "{code}", {MA}')
        assert answer.code is None
        assert radius.server.limited.lines >= 1
    assert _events(app) == []


def test_a_wrong_secret_gets_no_answer(app: App, radius: Running, alice: builders.Enrolled) -> None:
    code = alice.totp(app.deps.clock.now())
    attributes = f'User-Name = "alice", User-Password = "{code}", {MA}'
    assert radclient(radius.port, attributes, secret="not-the-secret-" + "y" * 20).code is None
    assert radclient(radius.port, attributes).code == "Access-Accept"  # the code was not spent


def test_a_lost_reply_is_resent_from_the_cache_and_the_code_checked_once(
    app: App, radius: Running, alice: builders.Enrolled
) -> None:
    radius.lose_next_replies(1)
    code = alice.totp(app.deps.clock.now())
    # radclient retransmits the same packet (same ID and authenticator) after the timeout.
    answer = radclient(
        radius.port, f'User-Name = "alice", User-Password = "{code}", {MA}', retries=3, timeout=0.5
    )
    assert answer.code == "Access-Accept", answer.output
    assert len(radius.lost) == 1
    assert _events(app) == [("accept", None)]  # decided once, answered twice


def test_status_server_is_answered(radius: Running) -> None:
    answer = radclient(radius.port, MA, command="status")
    assert answer.code == "Access-Accept", answer.output


def test_password_and_code(app: App, alice: builders.Enrolled) -> None:
    add_client(app, mode=RadiusMode.PASSWORD_AND_CODE)
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    clock = app.deps.clock
    with running(app) as radius:
        appended = f"correct horse{alice.totp(clock.now())}"
        answer = radclient(radius.port, f'User-Name = "alice", User-Password = "{appended}", {MA}')
        assert answer.code == "Access-Accept", answer.output
        comma = f"correct horse,{alice.totp(clock.now(), 1)}"
        answer = radclient(radius.port, f'User-Name = "alice", User-Password = "{comma}", {MA}')
        assert answer.code == "Access-Accept", answer.output
        wrong = f"wrong horse{alice.totp(clock.now(), -1)}"
        answer = radclient(radius.port, f'User-Name = "alice", User-Password = "{wrong}", {MA}')
        assert answer.code == "Access-Reject"
        assert answer.attributes["Reply-Message"] == ["Invalid password or verification code"]
        only = radclient(radius.port, f'User-Name = "alice", User-Password = "correct horse", {MA}')
        assert only.code == "Access-Reject"
    assert _events(app) == [
        ("accept", None),
        ("accept", None),
        ("reject", "invalid_password"),
        ("reject", "code_required"),
    ]
    assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 1


def test_password_only_for_a_user_without_mfa(app: App) -> None:
    add_client(app, mode=RadiusMode.PASSWORD_AND_CODE)
    builders.user(app, "bob", mfa=MfaState.DISABLED)
    app.passwords.set_password(OPERATOR, "default", "bob", "bobs password")
    with running(app) as radius:
        answer = radclient(radius.port, f'User-Name = "bob", User-Password = "bobs password", {MA}')
    assert answer.code == "Access-Accept", answer.output
    assert _events(app, "bob") == [("accept", "mfa_not_required")]


def test_password_only_mode_takes_app_passwords_and_explains_the_rest(app: App) -> None:
    """A legacy NAS: an app password signs in; the plain password of a user who must use
    two steps is refused with what to do in the Reply-Message."""
    add_client(app, mode=RadiusMode.PASSWORD_ONLY)
    builders.enrolled_user(app, "alice")
    app.admin.update_settings(OPERATOR, "default", {"app_passwords_allowed": True})
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    made = app.app_passwords.create(OPERATOR, "default", "alice", "old VPN client")
    with running(app) as radius:
        answer = radclient(
            radius.port, f'User-Name = "alice", User-Password = "{made.password}", {MA}'
        )
        assert answer.code == "Access-Accept", answer.output
        plain = radclient(
            radius.port, f'User-Name = "alice", User-Password = "correct horse", {MA}'
        )
        assert plain.code == "Access-Reject"
        [message] = plain.attributes["Reply-Message"]
        assert "create an app password" in message
        wrong = radclient(radius.port, f'User-Name = "alice", User-Password = "wrong horse", {MA}')
        assert wrong.attributes["Reply-Message"] == ["Invalid password"]
    assert _events(app) == [
        ("accept", None),
        ("reject", "two_step_required_for_legacy_client"),
        ("reject", "invalid_password"),
    ]
