"""``/v1/providers``, statements, licenses and integration activation (issue 15): a
provider's billing model never changes; replacing a tenant's provider holds back its
integrations (``integration_not_activated``) and devices (``account_not_activated``) until
they are activated again, while its users and their other methods stay."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.devices import FakeDevice
from tests.support.fakes import FakeClock
from tests.support.usage import Written, write
from twostep.bootstrap import App
from twostep.domain.entities import MfaState, Role
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

# The app's clock starts at 2027-01-15T08:00:00Z.
JANUARY = "2027-01"
MONTH_END = 1801440000.0  # 2027-02-01T00:00:00Z


def _provider(client: TestClient, admin: dict[str, str], **body: object) -> dict[str, object]:
    made = client.post(
        "/v1/providers",
        json={"name": "Acme MSP", "billing_model": "per_user", "tenant": "default", **body},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_a_provider_is_made_read_renamed_and_deleted_and_its_model_never_changes(
    app: App, client: TestClient, admin: dict[str, str]
) -> None:
    made = _provider(client, admin, time_zone="Asia/Seoul")
    assert {k: made[k] for k in ("name", "billing_model", "tenant", "time_zone")} == {
        "name": "Acme MSP",
        "billing_model": "per_user",
        "tenant": "default",
        "time_zone": "Asia/Seoul",
    }
    path = f"/v1/providers/{made['id']}"
    assert client.get(path, headers=admin).json() == made
    assert client.get("/v1/providers", headers=admin).json() == [made]
    changed = client.patch(path, json={"billing_model": "per_authentication"}, headers=admin)
    assert _code(changed) == (409, "billing_model_immutable")
    same = client.patch(path, json={"billing_model": "per_user", "name": "Acme"}, headers=admin)
    assert same.status_code == 200 and same.json()["name"] == "Acme"
    assert _code(
        client.post(
            "/v1/providers",
            json={"name": "Other", "billing_model": "per_user", "tenant": "default"},
            headers=admin,
        )
    ) == (409, "tenant_has_provider")
    assert client.delete(path, headers=admin).status_code == 204
    assert client.get("/v1/providers", headers=admin).json() == []
    kept = client.get("/v1/providers?deleted=true", headers=admin).json()
    assert [p["id"] for p in kept] == [made["id"]] and kept[0]["deleted_at"] is not None
    assert _code(client.delete(path, headers=admin)) == (404, "provider_not_found")
    trail = [e.action for e in app.admin_events.query(OPERATOR, None, limit=50)]
    assert {"provider.create", "provider.update", "provider.delete"} <= set(trail)


def test_a_bad_zone_or_model_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    zone = client.post(
        "/v1/providers",
        json={"name": "x", "billing_model": "per_user", "time_zone": "Mars/Olympus"},
        headers=admin,
    )
    assert zone.status_code == 422
    model = client.post(
        "/v1/providers", json={"name": "x", "billing_model": "per_seat"}, headers=admin
    )
    assert model.status_code == 422


def test_a_tenant_admin_reads_only_its_own_tenants_provider(
    app: App, client: TestClient, admin: dict[str, str]
) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    mine = _provider(client, admin)
    theirs = _provider(client, admin, tenant="acme", name="Other")
    _, key = app.admin.create_admin_key(OPERATOR, "ops", Role.TENANT_ADMIN, "default")
    tenant_admin = {"Authorization": f"Bearer {key}"}
    assert [p["id"] for p in client.get("/v1/providers", headers=tenant_admin).json()] == [
        mine["id"]
    ]
    other = client.get(f"/v1/providers/{theirs['id']}", headers=tenant_admin)
    assert _code(other) == (404, "provider_not_found")
    made = client.post(
        "/v1/providers", json={"name": "x", "billing_model": "per_user"}, headers=tenant_admin
    )
    assert _code(made) == (403, "forbidden")


def _validate(client: TestClient, key: str, code: str) -> tuple[int, dict[str, object]]:
    r = client.post(
        "/v1/validate",
        json={"user": "alice", "code": code},
        headers={"Authorization": f"Bearer {key}"},
    )
    return r.status_code, r.json()


def test_replacing_the_provider_holds_back_integrations_and_devices_until_activated(
    app: App, client: TestClient, admin: dict[str, str], clock: FakeClock
) -> None:
    enrolled = builders.enrolled_user(app)  # an app_code method, entered by hand
    _integration, key = builders.integration(app)
    device = FakeDevice.new().activate(app)
    first = _provider(client, admin)  # the tenant's first provider: nothing changes
    status, body = _validate(client, key, enrolled.totp(clock.now()))
    assert (status, body["result"]) == (200, "accept")

    client.delete(f"/v1/providers/{first['id']}", headers=admin)
    _provider(client, admin, name="New MSP")  # a replacement
    clock.advance(30)
    assert _code(
        client.post(
            "/v1/validate",
            json={"user": "alice", "code": enrolled.totp(clock.now())},
            headers={"Authorization": f"Bearer {key}"},
        )
    ) == (403, "integration_not_activated")
    path = f"/v1/devices/{device.id}/requests"
    held = client.get(path, headers={"Authorization": device.header("GET", path, clock.now())})
    assert _code(held) == (403, "account_not_activated")

    made = client.post("/v1/tenants/default/integrations/vpn/activations", headers=admin)
    assert made.status_code == 201, made.text
    pair = made.json()
    wrong = client.post("/v1/activations", json={"code": pair["code"], "password": "0"})
    assert _code(wrong) == (404, "integration_activation_invalid")
    done = client.post("/v1/activations", json={"code": pair["code"], "password": pair["password"]})
    assert done.status_code == 200, done.text
    new_key = done.json()["key"]
    again = client.post(
        "/v1/activations", json={"code": pair["code"], "password": pair["password"]}
    )
    assert _code(again) == (404, "integration_activation_invalid")

    # The user and their other method stayed: the hand-entered code still signs in.
    clock.advance(30)
    status, body = _validate(client, new_key, enrolled.totp(clock.now()))
    assert (status, body["result"]) == (200, "accept")
    old = client.post(
        "/v1/validate", json={"user": "alice"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert old.status_code == 401


def test_activation_credentials_lock_after_five_wrong_passwords_and_expire(
    app: App, client: TestClient, admin: dict[str, str], clock: FakeClock
) -> None:
    builders.integration(app)
    _provider(client, admin)
    pair = client.post("/v1/tenants/default/integrations/vpn/activations", headers=admin).json()
    for _ in range(5):
        client.post("/v1/activations", json={"code": pair["code"], "password": "1"})
    locked = client.post(
        "/v1/activations", json={"code": pair["code"], "password": pair["password"]}
    )
    assert _code(locked) == (404, "integration_activation_invalid")
    fresh = client.post("/v1/tenants/default/integrations/vpn/activations", headers=admin).json()
    clock.advance(601)
    late = client.post(
        "/v1/activations", json={"code": fresh["code"], "password": fresh["password"]}
    )
    assert _code(late) == (404, "integration_activation_invalid")


def test_activation_needs_a_provider(app: App, client: TestClient, admin: dict[str, str]) -> None:
    builders.integration(app)
    made = client.post("/v1/tenants/default/integrations/vpn/activations", headers=admin)
    assert _code(made) == (409, "provider_required")


def test_licenses_are_held_assigned_and_never_more_than_held(
    app: App, client: TestClient, admin: dict[str, str]
) -> None:
    builders.user(app, "alice")
    builders.user(app, "bob")
    base = "/v1/tenants/default"
    assert client.put(f"{base}/licenses", json={"held": 1}, headers=admin).json() == {
        "tenant": "default",
        "held": 1,
        "assigned": 0,
    }
    assert client.put(f"{base}/users/alice/license", headers=admin).json()["assigned"] == 1
    assert client.put(f"{base}/users/alice/license", headers=admin).json()["assigned"] == 1
    bob = client.put(f"{base}/users/bob/license", headers=admin)
    assert _code(bob) == (409, "licenses_exhausted")
    fewer = client.put(f"{base}/licenses", json={"held": 0}, headers=admin)
    assert _code(fewer) == (409, "licenses_in_use")
    assert client.delete(f"{base}/users/alice/license", headers=admin).json()["assigned"] == 0
    assert client.put(f"{base}/users/bob/license", headers=admin).json()["assigned"] == 1


def test_a_per_user_statement_bills_unlicensed_users_configured_for_mfa(
    app: App, client: TestClient, admin: dict[str, str], clock: FakeClock
) -> None:
    made = _provider(client, admin)
    builders.user(app, "alice", mfa=MfaState.ENABLED)  # billed
    builders.user(app, "bob", mfa=MfaState.ENFORCED)  # licensed: not billed
    builders.user(app, "carol", mfa=MfaState.DISABLED)  # not configured for MFA
    builders.user(app, "=dave", mfa=MfaState.ENABLED)  # billed; a formula in a CSV cell
    client.put("/v1/tenants/default/licenses", json={"held": 5}, headers=admin)
    client.put("/v1/tenants/default/users/bob/license", headers=admin)
    path = f"/v1/providers/{made['id']}/statements/{JANUARY}"
    body = client.get(path, headers=admin).json()
    assert (body["units"], body["closed"]) == (2, False)
    assert body["users"] == [
        {"tenant": "default", "user": "=dave"},
        {"tenant": "default", "user": "alice"},
    ]
    text = client.get(path, headers={**admin, "Accept": "text/csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["user"] for r in rows] == ["'=dave", "alice", ""]
    assert rows[-1]["units"] == "2"
    bad = client.get(f"/v1/providers/{made['id']}/statements/2027-13", headers=admin)
    assert _code(bad) == (422, "statement_month_invalid")


def test_a_closed_months_statement_never_changes(
    app: App, client: TestClient, admin: dict[str, str], clock: FakeClock
) -> None:
    made = _provider(client, admin, billing_model="per_authentication")
    with app.storage.transaction() as tx:
        tenant = tx.tenants.by_name("default")
    assert tenant is not None
    inside = [Written(tenant.id, "default", clock.now() + 60 * i, method="sms") for i in range(3)]
    write(app.storage, inside)
    path = f"/v1/providers/{made['id']}/statements/{JANUARY}"
    clock.value = MONTH_END + 6 * 3600  # the grace is over: the month closes
    closed = client.get(path, headers=admin).json()
    assert (closed["units"], closed["closed"]) == (3, True)
    assert closed["tenants"][0]["by_method"] == {"sms": 3}
    # An event written now with a time inside the month changes nothing any more.
    write(app.storage, [Written(tenant.id, "default", MONTH_END - 1, method="sms")])
    assert client.get(path, headers=admin).json() == closed
