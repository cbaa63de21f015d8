from __future__ import annotations

import pytest

from tests.support import builders
from twostep.bootstrap import App
from twostep.domain.entities import Integration
from twostep.domain.errors import InvalidInput, UserNotFound
from twostep.domain.results import Reason
from twostep.services import passwords
from twostep.services.admin import OPERATOR
from twostep.services.passwords import PrimaryRequest, split_candidates


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


def test_check_primary(app: App) -> None:
    alice = builders.enrolled_user(app, "alice")
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    vpn = _integration(app)
    code = alice.totp(app.deps.clock.now())

    def check(value: str, user: str = "alice") -> passwords.PrimaryOutcome:
        return app.passwords.check_primary(PrimaryRequest(vpn, user, value, "192.0.2.7"))

    assert check(f"correct horse{code}") == passwords.PrimaryOutcome(True, code=code)
    assert check("correct horse") == passwords.PrimaryOutcome(True, code=None)
    wrong = check(f"wrong horse{code}")
    assert not wrong.passed and wrong.decision is not None
    assert wrong.decision.reason is Reason.INVALID_CODE  # the NAS is not told which part
    unknown = check("correct horse123456", user="mallory")
    assert not unknown.passed
    events = app.audit.query(OPERATOR, "default")
    assert [(e.user, e.reason, e.client_ip, e.integration) for e in events] == [
        ("alice", "invalid_password", "192.0.2.7", "vpn"),
        ("mallory", "invalid_password", "192.0.2.7", "vpn"),
    ]
    assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 1


def test_a_locked_user_is_not_checked(app: App) -> None:
    builders.enrolled_user(app, "alice")
    app.admin.update_settings(OPERATOR, "default", {"max_failures": 2})
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    vpn = _integration(app)
    for _ in range(2):
        app.passwords.check_primary(PrimaryRequest(vpn, "alice", "wrong horse"))
    outcome = app.passwords.check_primary(PrimaryRequest(vpn, "alice", "correct horse"))
    assert outcome.decision is not None and outcome.decision.reason is Reason.USER_LOCKED
    reasons = [e.reason for e in app.audit.query(OPERATOR, "default", user="alice")]
    assert reasons == ["invalid_password", "invalid_password", "user_locked"]


def test_a_user_without_a_password_never_passes(app: App) -> None:
    builders.enrolled_user(app, "alice")
    outcome = app.passwords.check_primary(PrimaryRequest(_integration(app), "alice", "x" * 10))
    assert not outcome.passed
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    app.passwords.clear_password(OPERATOR, "default", "alice")
    outcome = app.passwords.check_primary(
        PrimaryRequest(_integration_named(app), "alice", "correct horse")
    )
    assert not outcome.passed


def _integration_named(app: App) -> Integration:
    integration, _key = builders.integration(app, "vpn-2")
    return integration
