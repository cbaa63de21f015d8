"""``POST /v1/validate`` with ``password``: Twostep checks the primary password and the
second factor in one call, with the same reasons, audit and lockout as RADIUS."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.devices import FakeDevice
from twostep.bootstrap import App
from twostep.domain.entities import MfaState
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")


def sign_in(client: TestClient, key: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post("/v1/validate", json={"user": "alice", **body}, headers=key)
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture
def alice(app: App) -> builders.Enrolled:
    enrolled = builders.enrolled_user(app, "alice")
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    return enrolled


def test_the_password_and_the_code_together(
    app: App, client: TestClient, integration_key: dict[str, str], alice: builders.Enrolled
) -> None:
    code = alice.totp(app.deps.clock.now())
    answer = sign_in(client, integration_key, password="correct horse", code=code)
    assert (answer["result"], answer["reason"]) == ("accept", None)
    [event] = app.audit.query(OPERATOR, "default", user="alice")
    assert (event.result, event.method) == ("accept", "app_code")


def test_a_wrong_password_starts_nothing_and_leaves_the_code_unspent(
    app: App, client: TestClient, integration_key: dict[str, str], alice: builders.Enrolled
) -> None:
    code = alice.totp(app.deps.clock.now())
    wrong = sign_in(client, integration_key, password="battery staple", code=code)
    assert (wrong["result"], wrong["reason"]) == ("reject", "invalid_password")
    assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 1
    # The code was never looked at, so it still works with the right password.
    right = sign_in(client, integration_key, password="correct horse", code=code)
    assert right["result"] == "accept"
    reasons = [e.reason for e in app.audit.query(OPERATOR, "default", user="alice")]
    assert reasons == ["invalid_password", None]


def test_a_user_without_a_password_is_refused_when_one_is_sent(
    app: App, client: TestClient, integration_key: dict[str, str]
) -> None:
    enrolled = builders.enrolled_user(app, "alice")
    code = enrolled.totp(app.deps.clock.now())
    answer = sign_in(client, integration_key, password="anything at all", code=code)
    assert answer["reason"] == "invalid_password"


def test_an_unknown_user_hears_the_same_as_a_wrong_password(
    client: TestClient, integration_key: dict[str, str], alice: builders.Enrolled
) -> None:
    r = client.post(
        "/v1/validate",
        json={"user": "mallory", "password": "correct horse", "code": "123456"},
        headers=integration_key,
    )
    assert r.json()["reason"] == "invalid_password"


def test_a_locked_user_is_not_checked(
    app: App, client: TestClient, integration_key: dict[str, str], alice: builders.Enrolled
) -> None:
    app.admin.update_settings(OPERATOR, "default", {"max_failures": 2})
    for _ in range(2):
        sign_in(client, integration_key, password="battery staple", code="000000")
    code = alice.totp(app.deps.clock.now())
    locked = sign_in(client, integration_key, password="correct horse", code=code)
    assert locked["reason"] == "user_locked"


def test_the_password_then_a_push(
    app: App, client: TestClient, integration_key: dict[str, str]
) -> None:
    builders.user(app, "alice")
    FakeDevice.new().activate(app)
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    assert sign_in(client, integration_key, password="wrong horse!")["result"] == "reject"
    answer = sign_in(client, integration_key, password="correct horse")
    assert answer["result"] == "challenge" and answer["number"] is not None


def test_mfa_disabled_signs_in_with_the_password_alone(
    app: App, client: TestClient, integration_key: dict[str, str]
) -> None:
    builders.user(app, "alice", mfa=MfaState.DISABLED)
    app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
    answer = sign_in(client, integration_key, password="correct horse")
    assert (answer["result"], answer["reason"]) == ("accept", "mfa_not_required")
    assert sign_in(client, integration_key, password="nope nope")["reason"] == "invalid_password"


def test_the_password_is_never_echoed_and_never_audited(
    app: App, client: TestClient, integration_key: dict[str, str], alice: builders.Enrolled
) -> None:
    r = client.post(
        "/v1/validate",
        json={"user": "alice", "password": "battery staple", "code": "12"},
        headers=integration_key,
    )
    assert "battery" not in r.text
    assert "battery" not in str(app.audit.query(OPERATOR, "default"))
