from __future__ import annotations

import pytest

from tests.support import builders
from twostep.bootstrap import App
from twostep.domain.entities import Integration
from twostep.domain.errors import InvalidInput, UserNotFound
from twostep.domain.results import Decision, Reason, Result
from twostep.services import passwords
from twostep.services.admin import OPERATOR
from twostep.services.passwords import split_candidates
from twostep.services.signin_request import Entry, SignInRequest


def test_split_candidates() -> None:
    assert split_candidates("secret123456", [6]) == [("secret", "123456"), ("secret123456", None)]
    assert split_candidates("secret,123456", [6, 8]) == [
        ("secret", "123456"),
        ("secret,", "123456"),
        ("secret,123456", None),
    ]
    assert split_candidates("pw12345678", [6, 8]) == [
        ("pw", "12345678"),
        ("pw12", "345678"),
        ("pw12345678", None),
    ]
    assert split_candidates("secret,push", [6]) == [("secret", "push"), ("secret,push", None)]
    assert split_candidates("a,b,c", [6]) == [("a,b", "c"), ("a,b,c", None)]
    assert split_candidates("123456", [6]) == [("123456", None)]
    assert split_candidates("", [6]) == [("", None)]


def test_hash_and_verify() -> None:
    stored = passwords.hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "correct horse")
    assert not passwords.verify_password(stored, "correct horsE")
    assert not passwords.verify_password(None, "anything")
    assert not passwords.verify_password("not a hash", "anything")


def test_set_password_rules(app: App) -> None:
    builders.user(app, "alice")
    with pytest.raises(InvalidInput):
        app.passwords.set_password(OPERATOR, "default", "alice", "short")
    with pytest.raises(InvalidInput):
        app.passwords.set_password(OPERATOR, "default", "alice", "tab\there!")
    with pytest.raises(UserNotFound):
        app.passwords.set_password(OPERATOR, "default", "nobody", "long enough")


def _integration(app: App) -> Integration:
    integration, _key = builders.integration(app, "vpn")
    return integration


def _radius(app: App, vpn: Integration, value: str, user: str = "alice") -> Decision:
    """What a RADIUS client in password_and_code mode sends: the password, then the code."""
    return app.signin.sign_in(
        SignInRequest(
            user=user,
            integration=vpn,
            typed=value,
            entry=Entry.PASSWORD_AND_CODE,
            client_ip="192.0.2.7",
            interface="radius",
            can_prompt=False,
        )
    )


def test_the_password_is_checked_before_the_code(app: App) -> None:
    alice = builders.enrolled_user(app, "alice")
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    vpn = _integration(app)
    code = alice.totp(app.deps.clock.now())

    assert _radius(app, vpn, f"correct horse{code}").result is Result.ACCEPT
    # The password alone passes the first step; the code is missing.
    assert _radius(app, vpn, "correct horse").reason is Reason.CODE_REQUIRED
    wrong = _radius(app, vpn, f"wrong horse{code}")
    assert (wrong.result, wrong.reason) == (Result.REJECT, Reason.INVALID_PASSWORD)
    unknown = _radius(app, vpn, "correct horse123456", user="mallory")
    assert unknown.reason is Reason.INVALID_PASSWORD
    events = app.audit.query(OPERATOR, "default")
    assert [(e.user, e.reason, e.client_ip, e.integration) for e in events] == [
        ("alice", None, "192.0.2.7", "vpn"),
        ("alice", "code_required", "192.0.2.7", "vpn"),
        ("alice", "invalid_password", "192.0.2.7", "vpn"),
        ("mallory", "invalid_password", "192.0.2.7", "vpn"),
    ]
    # The wrong password counted (a missing code does not).
    assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 1


def test_a_locked_user_is_not_checked(app: App) -> None:
    builders.enrolled_user(app, "alice")
    app.admin.update_settings(OPERATOR, "default", {"max_failures": 2})
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    vpn = _integration(app)
    for _ in range(2):
        _radius(app, vpn, "wrong horse")
    assert _radius(app, vpn, "correct horse").reason is Reason.USER_LOCKED
    reasons = [e.reason for e in app.audit.query(OPERATOR, "default", user="alice")]
    assert reasons == ["invalid_password", "invalid_password", "user_locked"]


def test_a_user_without_a_password_never_passes(app: App) -> None:
    alice = builders.enrolled_user(app, "alice")
    vpn = _integration(app)
    code = alice.totp(app.deps.clock.now())
    assert _radius(app, vpn, f"{'x' * 10}{code}").reason is Reason.INVALID_PASSWORD
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    app.passwords.clear_password(OPERATOR, "default", "alice")
    assert _radius(app, vpn, f"correct horse{code}").reason is Reason.INVALID_PASSWORD
