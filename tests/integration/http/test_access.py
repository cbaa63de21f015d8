"""Credentials and roles: integrations validate, admins manage, tenant admins stay home."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from twostep.bootstrap import App
from twostep.services.admin import OPERATOR


def test_validate_needs_an_integration_key(client: TestClient, admin: dict[str, str]) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        admin,
        {"Authorization": "Bearer tsi_0123456789abcdef_wrong"},
    ):
        r = client.post("/v1/validate", json={"user": "alice", "code": "123456"}, headers=headers)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthenticated"


def test_a_revoked_integration_is_refused(
    client: TestClient, app: App, integration_key: dict[str, str]
) -> None:
    app.admin.revoke_integration(OPERATOR, "default", "web")
    r = client.post("/v1/validate", json={"user": "alice", "code": "1"}, headers=integration_key)
    assert r.status_code == 401


def test_an_integration_key_cannot_manage(
    client: TestClient, integration_key: dict[str, str]
) -> None:
    assert client.get("/v1/tenants", headers=integration_key).status_code == 401


def test_an_integration_reaches_only_its_tenant(
    client: TestClient, app: App, integration_key: dict[str, str]
) -> None:
    app.admin.create_tenant(OPERATOR, "other")
    r = client.post(
        "/v1/validate",
        json={"tenant": "other", "user": "a", "code": "123456"},
        headers=integration_key,
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_integration_keys_are_shown_once_and_stored_hashed(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    r = client.post("/v1/tenants/default/integrations", json={"name": "vpn"}, headers=admin)
    assert r.status_code == 201
    key = r.json()["key"]
    listed = client.get("/v1/tenants/default/integrations", headers=admin).text
    assert key not in listed and key.split("_", 2)[2] not in listed
    with app.storage.engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM integrations"))
    assert key.split("_", 2)[2] not in dump
    assert client.delete("/v1/tenants/default/integrations/vpn", headers=admin).status_code == 204


@pytest.fixture
def tenant_admin(client: TestClient, app: App, admin: dict[str, str]) -> dict[str, str]:
    app.admin.create_tenant(OPERATOR, "acme")
    app.admin.create_tenant(OPERATOR, "globex")
    r = client.post(
        "/v1/keys",
        json={"name": "acme-admin", "role": "tenant_admin", "tenant": "acme"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}"}


def test_a_tenant_admin_sees_only_its_tenant(
    client: TestClient, tenant_admin: dict[str, str]
) -> None:
    assert [t["name"] for t in client.get("/v1/tenants", headers=tenant_admin).json()] == ["acme"]
    r = client.post("/v1/tenants/acme/users", json={"user": "x"}, headers=tenant_admin)
    assert r.status_code == 201
    for path in ("/v1/tenants/globex/users", "/v1/tenants/default/audit"):
        r = client.get(path, headers=tenant_admin)
        assert r.status_code == 404 and r.json()["error"]["code"] == "tenant_not_found"


def test_a_tenant_admin_cannot_make_tenants_or_keys(
    client: TestClient, tenant_admin: dict[str, str]
) -> None:
    r = client.post("/v1/tenants", json={"name": "new"}, headers=tenant_admin)
    assert r.status_code == 403
    r = client.post("/v1/keys", json={"name": "k", "role": "global_admin"}, headers=tenant_admin)
    assert r.status_code == 403


def test_revoked_admin_keys_stop_working(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/v1/keys", json={"name": "temp", "role": "global_admin"}, headers=admin)
    temp = {"Authorization": f"Bearer {r.json()['key']}"}
    assert client.get("/v1/tenants", headers=temp).status_code == 200
    assert client.delete(f"/v1/keys/{r.json()['key_id']}", headers=admin).status_code == 204
    assert client.get("/v1/tenants", headers=temp).status_code == 401


def test_tenant_settings(client: TestClient, admin: dict[str, str]) -> None:
    r = client.patch("/v1/tenants/default/settings", json={"max_failures": 5}, headers=admin)
    assert r.status_code == 200 and r.json()["max_failures"] == 5
    r = client.patch("/v1/tenants/default/settings", json={"max_failures": 101}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_setting"
    r = client.patch("/v1/tenants/default/settings", json={"bogus": 1}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["field"] == "bogus"
    assert client.get("/v1/tenants/default/settings", headers=admin).json()["max_failures"] == 5
