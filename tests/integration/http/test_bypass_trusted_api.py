"""The admin API of issue 16's skips: a user's one-time bypass (grant, cancel, bounds) and
an integration's trusted_client_addresses flag, and what validate answers with them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support import builders
from twostep.bootstrap import App
from twostep.services.admin import OPERATOR

USERS = "/v1/tenants/default/users"


def validate(client: TestClient, key: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post("/v1/validate", json={"user": "alice", **body}, headers=key)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_granted_bypass_lets_one_validate_through(
    app: App, client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    builders.enrolled_user(app)
    r = client.post(f"{USERS}/alice/bypass", json={"seconds": 120}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["bypass_until"] == app.deps.clock.now() + 120
    first = validate(client, integration_key, code="000000")
    assert (first["result"], first["reason"]) == ("accept", "bypass")
    assert validate(client, integration_key)["reason"] == "code_required"
    assert client.get(f"{USERS}/alice", headers=admin).json()["bypass_until"] is None


def test_the_default_window_is_300_seconds(
    app: App, client: TestClient, admin: dict[str, str]
) -> None:
    builders.user(app)
    r = client.post(f"{USERS}/alice/bypass", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["bypass_until"] == app.deps.clock.now() + 300


def test_more_than_1800_seconds_is_a_422(
    app: App, client: TestClient, admin: dict[str, str]
) -> None:
    builders.user(app)
    for seconds in (1801, 0, "60"):
        r = client.post(f"{USERS}/alice/bypass", json={"seconds": seconds}, headers=admin)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "invalid_request"


def test_a_cancelled_bypass_lets_nothing_through(
    app: App, client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    builders.enrolled_user(app)
    client.post(f"{USERS}/alice/bypass", headers=admin)
    assert client.delete(f"{USERS}/alice/bypass", headers=admin).status_code == 204
    assert client.delete(f"{USERS}/alice/bypass", headers=admin).status_code == 204
    assert validate(client, integration_key)["reason"] == "code_required"
    actions = [
        e["action"]
        for e in client.get("/v1/tenants/default/admin-events", headers=admin).json()["events"]
    ]
    assert actions.count("user.bypass") == 1 and actions.count("user.bypass_cancel") == 1


def test_an_unknown_user_is_a_404(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post(f"{USERS}/nobody/bypass", headers=admin)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "user_not_found"


def test_an_integration_key_cannot_grant_one(
    app: App, client: TestClient, integration_key: dict[str, str]
) -> None:
    builders.user(app)
    assert client.post(f"{USERS}/alice/bypass", headers=integration_key).status_code == 401


def test_trusted_client_addresses_are_set_and_used_by_validate(
    app: App, client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    builders.enrolled_user(app)
    app.admin.update_settings(
        OPERATOR,
        "default",
        {"trusted_networks_enabled": True, "trusted_networks": ["198.51.100.0/24"]},
    )
    sent = {"client_ip": "198.51.100.20"}
    assert validate(client, integration_key, **sent)["reason"] == "code_required"
    r = client.patch(
        "/v1/tenants/default/integrations/web",
        json={"trusted_client_addresses": True},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["trusted_client_addresses"], r.json()["legacy"]) == (True, False)
    found = validate(client, integration_key, **sent)
    assert (found["result"], found["reason"]) == ("accept", "trusted_network")
    assert validate(client, integration_key, client_ip="192.0.2.1")["reason"] == "code_required"


def test_an_empty_integration_patch_is_a_422(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    r = client.patch("/v1/tenants/default/integrations/web", json={}, headers=admin)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_request"


def test_a_bad_trusted_network_names_the_block(client: TestClient, admin: dict[str, str]) -> None:
    r = client.patch(
        "/v1/tenants/default/settings",
        json={"trusted_networks": ["10.0.0.0/8", "10.1.2.3/8"]},
        headers=admin,
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_setting"
    assert "'10.1.2.3/8' is not a CIDR block" in error["message"]
