"""The admin API for RADIUS clients and users' local passwords."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import builders
from twostep.bootstrap import App
from twostep.domain.entities import Integration
from twostep.domain.results import Reason
from twostep.services.signin_request import SignInRequest

BASE = "/v1/tenants/default/radius-clients"


def test_radius_clients(client: TestClient, admin: dict[str, str]) -> None:
    created = client.post(BASE, json={"name": "vpn", "network": "192.0.2.0/24"}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["mode"] == "second_factor" and body["network"] == "192.0.2.0/24"
    assert len(body["secret"]) == 43 and body["warnings"] == []
    assert body["require_message_authenticator"] is True
    weak = client.post(
        BASE,
        json={"name": "old-ap", "network": "2001:db8::1", "secret": "short", "mode": "challenge"},
        headers=admin,
    )
    assert weak.status_code == 201 and weak.json()["secret"] is None
    assert "weak shared secret" in weak.json()["warnings"][0]
    listed = client.get(BASE, headers=admin).json()
    assert [c["name"] for c in listed] == ["old-ap", "vpn"]
    assert all("secret" not in c for c in listed)
    again = client.post(BASE, json={"name": "vpn", "network": "192.0.2.1"}, headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "integration_exists"
    bad = client.post(BASE, json={"name": "x", "network": "192.0.2.1/24"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "network"
    assert client.delete(f"{BASE}/vpn", headers=admin).status_code == 204
    assert client.delete(f"{BASE}/vpn", headers=admin).status_code == 404
    assert client.get(BASE).status_code == 401


def test_set_a_users_password(client: TestClient, admin: dict[str, str], app: App) -> None:
    builders.user(app, "alice")
    url = "/v1/tenants/default/users/alice/password"
    assert client.put(url, json={"password": "short"}, headers=admin).status_code == 422
    assert client.put(url, json={"password": "correct horse"}, headers=admin).status_code == 204
    missing = client.put(
        "/v1/tenants/default/users/bob/password", json={"password": "correct horse"}, headers=admin
    )
    assert missing.status_code == 404
    integration: Integration = builders.integration(app, "vpn")[0]
    sign_in = SignInRequest("alice", integration, password="correct horse")
    # The password passes; with no method registered, the second factor is what is missing.
    assert app.signin.sign_in(sign_in).reason is Reason.NO_METHOD_REGISTERED
    assert client.delete(url, headers=admin).status_code == 204
    assert app.signin.sign_in(sign_in).reason is Reason.INVALID_PASSWORD


def test_a_radius_clients_mfa_server_options(
    client: TestClient, admin: dict[str, str], app: App
) -> None:
    secret = "upstream-secret-" + "9" * 24
    created = client.post(
        BASE,
        json={
            "name": "vpn",
            "network": "192.0.2.0/24",
            "primary": "radius",
            "require_user_match": False,
            "upstreams": [{"address": "127.0.0.1", "port": 18120, "secret": secret}],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["primary"], body["require_user_match"], body["oath_fallback"]) == (
        "radius",
        False,
        False,
    )
    assert body["upstreams"] == [{"address": "127.0.0.1", "port": 18120, "timeout": 5.0}]
    patched = client.patch(f"{BASE}/vpn", json={"oath_fallback": True}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["oath_fallback"] and patched.json()["upstreams"][0]["port"] == 18120
    # Refused together: no user match without a primary of the client's own.
    refused = client.patch(f"{BASE}/vpn", json={"primary": "none"}, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "require_user_match"
    no_secret = client.patch(
        f"{BASE}/vpn", json={"upstreams": [{"address": "127.0.0.2"}]}, headers=admin
    )
    assert no_secret.status_code == 422
    switched = client.patch(
        f"{BASE}/vpn", json={"primary": "ldap", "require_user_match": True}, headers=admin
    )
    assert switched.json()["upstreams"] == []  # no longer proxied: the servers are gone
    assert client.patch(f"{BASE}/nope", json={}, headers=admin).status_code == 404
    trail = client.get(
        "/v1/admin-events", headers=admin, params={"action": "radius_client.update"}
    ).json()
    assert secret not in str(trail) and secret not in created.text
    made = client.get(
        "/v1/admin-events", headers=admin, params={"action": "radius_client.create"}
    ).json()["events"]
    assert made[0]["changes"]["upstream_secrets"] == [None, "***"]
    changes = [e["changes"] for e in trail["events"]]
    assert {"oath_fallback": [False, True]} in changes
    assert any(c.get("upstreams", [None, None])[1] == [] for c in changes)
    with app.storage.transaction() as tx:
        [(_client, _sealed, upstream_secrets)] = tx.radius_clients.active()
    assert upstream_secrets == []
