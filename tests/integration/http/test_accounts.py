"""A help desk's week over the admin API: disable and enable a user, make one register
again after a lost phone, turn a method kind off for the whole tenant."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.devices import FakeDevice
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind, Role
from twostep.domain.errors import ActivationInvalid
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

USERS = "/v1/tenants/default/users"


def validate(client: TestClient, key: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post("/v1/validate", json={"user": "alice", **body}, headers=key)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def signed_get(client: TestClient, phone: FakeDevice, path: str) -> Any:
    return client.get(path, headers={"Authorization": phone.header("GET", path, FakeClock().now())})


class TestDisable:
    def test_a_disabled_user_is_refused_with_nothing_checked(
        self,
        app: App,
        client: TestClient,
        admin: dict[str, str],
        integration_key: dict[str, str],
        clock: FakeClock,
    ) -> None:
        alice = builders.enrolled_user(app)
        r = client.post(f"{USERS}/alice/disable", headers=admin)
        assert r.status_code == 200, r.text
        assert (r.json()["disabled"], r.json()["disabled_reason"]) == (True, "admin")

        answer = validate(client, integration_key, code=alice.totp(clock.now()))
        assert (answer["result"], answer["reason"]) == ("reject", "user_disabled")
        wrong = validate(client, integration_key, code="000000")
        assert wrong["reason"] == "user_disabled"
        assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 0  # no lockout

        r = client.post(f"{USERS}/alice/enable", headers=admin)
        assert (r.status_code, r.json()["disabled"]) == (200, False)
        assert validate(client, integration_key, code=alice.totp(clock.now()))["result"] == (
            "accept"
        )

    def test_disabling_twice_changes_nothing_and_unknown_users_are_404(
        self, app: App, client: TestClient, admin: dict[str, str]
    ) -> None:
        builders.user(app)
        assert client.post(f"{USERS}/alice/disable", headers=admin).status_code == 200
        assert client.post(f"{USERS}/alice/disable", headers=admin).json()["disabled"] is True
        r = client.post(f"{USERS}/bob/disable", headers=admin)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "user_not_found")


class TestReRegistration:
    def test_a_lost_phone(
        self,
        app: App,
        client: TestClient,
        admin: dict[str, str],
        integration_key: dict[str, str],
        clock: FakeClock,
    ) -> None:
        """Everything of the old phone stops working at once; the next sign-in says the
        user must register, and registering again restores sign-ins."""
        builders.user(app)
        alice = builders.app_code(app)
        builders.token(app, serial="TOKEN-1")
        phone = FakeDevice.new().activate(app)
        pending = app.devices.start_activation(OPERATOR, "default", "alice")
        push = validate(client, integration_key, method="app_push")
        assert push["result"] == "challenge"

        r = client.post(f"{USERS}/alice/require-registration", headers=admin)
        assert r.status_code == 200, r.text
        assert (r.json()["registration_required"], r.json()["default_method"]) == (True, None)

        answer = validate(client, integration_key, code=alice.totp(clock.now()))
        assert (answer["result"], answer["reason"]) == ("reject", "registration_required")
        # The phone's device hears that its account is gone.
        r = signed_get(client, phone, f"/v1/devices/{phone.id}/requests")
        assert (r.status_code, r.json()["error"]["code"]) == (403, "account_not_activated")
        # The pending push request was closed, and an old activation code is spent.
        r = client.get(f"/v1/validate/{push['transaction_id']}", headers=integration_key)
        assert (r.json()["result"], r.json()["reason"]) == ("reject", "registration_required")
        again = FakeDevice.new()
        with pytest.raises(ActivationInvalid):
            app.devices.activate(pending.code, again.key())
        # The hardware token is back in the pool with its seed, not destroyed.
        pool = client.get("/v1/tenants/default/tokens?assigned=false", headers=admin)
        assert pool.status_code == 200, pool.text
        assert "TOKEN-1" in pool.text
        assert client.get(f"{USERS}/alice/methods", headers=admin).json() == []

        fresh = builders.app_code(app)  # the user registers again
        clock.advance(60)
        answer = validate(client, integration_key, code=fresh.totp(clock.now()))
        assert answer["result"] == "accept"
        assert client.get(f"{USERS}/alice", headers=admin).json()["registration_required"] is False

    def test_other_tenants_admins_cannot_reset(
        self, app: App, client: TestClient, admin: dict[str, str]
    ) -> None:
        builders.user(app)
        app.admin.create_tenant(OPERATOR, "other")
        _key, secret = app.admin.create_admin_key(
            OPERATOR, "other-admin", Role.TENANT_ADMIN, "other"
        )
        theirs = {"Authorization": f"Bearer {secret}"}
        r = client.post(f"{USERS}/alice/require-registration", headers=theirs)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "tenant_not_found")
        assert client.get(f"{USERS}/alice", headers=admin).json()["registration_required"] is False


class TestDisabledKinds:
    def test_turning_sms_off_stops_it_at_once_and_the_default_asks_for_another(
        self,
        app: App,
        client: TestClient,
        admin: dict[str, str],
        integration_key: dict[str, str],
        clock: FakeClock,
    ) -> None:
        builders.user(app, phone="+14155550123")
        app.enroll.enroll(OPERATOR, "default", "alice", MethodKind.SMS, {"phone": "+14155550123"})
        alice = builders.app_code(app)
        r = client.patch(
            "/v1/tenants/default/settings", json={"disabled_kinds": ["sms"]}, headers=admin
        )
        assert r.status_code == 200, r.text

        answer = validate(client, integration_key)
        assert (answer["result"], answer["reason"], answer["methods"]) == (
            "reject",
            "default_method_disabled",
            ["app_code"],
        )
        answer = validate(client, integration_key, method="sms")
        assert (answer["reason"], answer["methods"]) == ("method_disabled", ["app_code"])
        assert validate(client, integration_key, code=alice.totp(clock.now()))["result"] == (
            "accept"
        )

    def test_a_disabled_kind_cannot_be_enrolled(
        self, app: App, client: TestClient, admin: dict[str, str]
    ) -> None:
        builders.user(app)
        app.admin.update_settings(OPERATOR, "default", {"disabled_kinds": ["sms"]})
        body = {"kind": "sms", "phone": "+14155550123"}
        r = client.post(f"{USERS}/alice/methods", json=body, headers=admin)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "method_disabled")
        r = client.post(f"{USERS}/alice/methods", json={"kind": "app_code"}, headers=admin)
        assert r.status_code == 201, r.text
