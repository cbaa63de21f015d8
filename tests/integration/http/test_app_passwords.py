"""App passwords over the admin API, and legacy integrations signing users in with them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support import builders
from tests.support.fakes import FakeClock
from twostep.adapters.storage.tables import app_passwords
from twostep.bootstrap import App
from twostep.domain.entities import MfaState
from twostep.services import app_passwords as app_passwords_service
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

BASE = "/v1/tenants/default/users/alice/app-passwords"
SHAPE = re.compile(r"^([a-z2-7]{4}-){5}[a-z2-7]{4}$")


@pytest.fixture
def allowed(app: App) -> None:
    app.admin.update_settings(OPERATOR, "default", {"app_passwords_allowed": True})


@pytest.fixture
def legacy(app: App) -> dict[str, str]:
    _integration, key = app.admin.create_integration(OPERATOR, "default", "imap", legacy=True)
    return {"Authorization": f"Bearer {key}"}


def create(client: TestClient, admin: dict[str, str], name: str = "Outlook on laptop") -> Any:
    r = client.post(BASE, json={"name": name}, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


def sign_in(client: TestClient, key: dict[str, str], password: str, **body: Any) -> Any:
    r = client.post(
        "/v1/validate", json={"user": "alice", "password": password, **body}, headers=key
    )
    assert r.status_code == 200, r.text
    return r.json()


class TestAdmin:
    def test_shown_once_never_stored_or_listed(
        self, app: App, client: TestClient, admin: dict[str, str], allowed: None
    ) -> None:
        builders.user(app)
        made = create(client, admin)
        assert SHAPE.match(made["password"]), made["password"]
        assert made["name"] == "Outlook on laptop" and made["last_used_at"] is None
        listed = client.get(BASE, headers=admin).json()
        assert listed == [{k: v for k, v in made.items() if k != "password"}]
        with app.storage.engine.connect() as conn:
            [stored] = conn.execute(select(app_passwords.c.digest)).scalars()
        plain = made["password"].replace("-", "")
        assert bytes(stored) == app_passwords_service.digest(plain.lower())
        assert plain.encode() not in bytes(stored)

    def test_names_are_unique_per_user_and_the_tenant_must_allow_them(
        self, app: App, client: TestClient, admin: dict[str, str]
    ) -> None:
        builders.user(app)
        r = client.post(BASE, json={"name": "phone"}, headers=admin)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "app_passwords_not_allowed")
        app.admin.update_settings(OPERATOR, "default", {"app_passwords_allowed": True})
        create(client, admin, "phone")
        r = client.post(BASE, json={"name": "phone"}, headers=admin)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "app_password_exists")

    def test_delete_one_and_delete_all(
        self, app: App, client: TestClient, admin: dict[str, str], allowed: None
    ) -> None:
        builders.user(app)
        first = create(client, admin, "laptop")
        create(client, admin, "tablet")
        create(client, admin, "printer")
        assert client.delete(f"{BASE}/{first['id']}", headers=admin).status_code == 204
        r = client.delete(f"{BASE}/{first['id']}", headers=admin)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "app_password_not_found")
        assert client.delete(BASE, headers=admin).json() == {"deleted": 2}
        assert client.get(BASE, headers=admin).json() == []


class TestLegacySignIn:
    def test_an_app_password_stands_in_for_password_and_second_factor(
        self,
        app: App,
        client: TestClient,
        admin: dict[str, str],
        legacy: dict[str, str],
        allowed: None,
        clock: FakeClock,
    ) -> None:
        builders.enrolled_user(app)
        made = create(client, admin)
        typed = made["password"].replace("-", " ").upper()  # as a user may type it
        assert sign_in(client, legacy, typed)["result"] == "accept"
        [event] = app.audit.query(OPERATOR, "default", result="accept")[-1:]
        assert (event.method, event.device) == ("app_password", "Outlook on laptop")
        assert client.get(BASE, headers=admin).json()[0]["last_used_at"] is not None

    def test_deleted_ones_stop_working(
        self,
        app: App,
        client: TestClient,
        admin: dict[str, str],
        legacy: dict[str, str],
        allowed: None,
    ) -> None:
        builders.enrolled_user(app)
        made = create(client, admin)
        client.delete(BASE, headers=admin)
        answer = sign_in(client, legacy, made["password"])
        assert (answer["result"], answer["reason"]) == ("reject", "invalid_password")

    def test_only_legacy_integrations_take_them(
        self,
        app: App,
        client: TestClient,
        admin: dict[str, str],
        integration_key: dict[str, str],
        allowed: None,
    ) -> None:
        builders.enrolled_user(app)
        made = create(client, admin)
        answer = sign_in(client, integration_key, made["password"])
        assert (answer["result"], answer["reason"]) == ("reject", "invalid_password")
        r = client.post(
            "/v1/validate",
            json={"user": "alice", "code": made["password"]},
            headers=integration_key,
        )
        assert r.json()["result"] == "reject"

    def test_they_never_open_the_admin_api(
        self, app: App, client: TestClient, admin: dict[str, str], allowed: None
    ) -> None:
        builders.user(app)
        made = create(client, admin)
        r = client.get("/v1/tenants", headers={"Authorization": f"Bearer {made['password']}"})
        assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthenticated")

    def test_forbidden_app_passwords_stop_working_at_once(
        self,
        app: App,
        client: TestClient,
        admin: dict[str, str],
        legacy: dict[str, str],
        allowed: None,
    ) -> None:
        builders.enrolled_user(app)
        made = create(client, admin)
        app.admin.update_settings(OPERATOR, "default", {"app_passwords_allowed": False})
        answer = sign_in(client, legacy, made["password"])
        assert (answer["result"], answer["reason"]) == ("reject", "invalid_password")


class TestThePrimaryPasswordOfALegacyClient:
    @pytest.mark.parametrize(
        ("allow", "advice"),
        [(True, "create an app password"), (False, "app passwords are not allowed")],
    )
    def test_a_user_who_must_use_two_steps_is_told_what_to_do(
        self,
        app: App,
        client: TestClient,
        legacy: dict[str, str],
        allow: bool,
        advice: str,
    ) -> None:
        builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"app_passwords_allowed": allow})
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
        answer = sign_in(client, legacy, "correct horse")
        assert (answer["result"], answer["reason"]) == (
            "reject",
            "two_step_required_for_legacy_client",
        )
        assert advice in answer["message"]

    def test_a_user_without_two_step_verification_signs_in_with_it(
        self, app: App, client: TestClient, legacy: dict[str, str]
    ) -> None:
        builders.user(app, mfa=MfaState.DISABLED)
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
        answer = sign_in(client, legacy, "correct horse")
        assert (answer["result"], answer["reason"]) == ("accept", "mfa_not_required")

    def test_wrong_passwords_lock_the_user_out(
        self, app: App, client: TestClient, legacy: dict[str, str], allowed: None
    ) -> None:
        builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"max_failures": 3})
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
        for _ in range(3):
            assert sign_in(client, legacy, "wrong horse")["reason"] == "invalid_password"
        assert sign_in(client, legacy, "correct horse")["reason"] == "user_locked"

    def test_unknown_users_answer_like_a_wrong_password(
        self, client: TestClient, legacy: dict[str, str], allowed: None
    ) -> None:
        answer = sign_in(client, legacy, "abcd-efgh-ijkl-mnop-qrst-uvwx")
        assert (answer["result"], answer["reason"]) == ("reject", "invalid_password")

    def test_a_code_from_a_legacy_integration_is_the_usual_sign_in(
        self, app: App, client: TestClient, legacy: dict[str, str], clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        app.passwords.set_password(OPERATOR, "default", "alice", "correct horse")
        answer = sign_in(client, legacy, "correct horse", code=alice.totp(clock.now()))
        assert answer["result"] == "accept"
