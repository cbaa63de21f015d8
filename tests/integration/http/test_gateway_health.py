"""Gateway health per tenant: each gateway's deliveries and failures in a window, read from
the audit log (so every node's count), with the last error; a tenant admin sees its own."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.fakes import FakeClock
from tests.support.phones import MOBILE
from tests.support.postgres import free_port
from twostep.bootstrap import App
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

GATEWAYS = "/v1/tenants/default/gateways"
HEALTH = "/v1/tenants/default/gateways/health"


def add(client: TestClient, admin: dict[str, str], body: dict[str, Any]) -> None:
    r = client.post(GATEWAYS, json=body, headers=admin)
    assert r.status_code == 201, r.text


def sign_in(client: TestClient, key: dict[str, str]) -> dict[str, Any]:
    r = client.post("/v1/validate", json={"user": "alice"}, headers=key)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def alice(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    r = client.post(
        "/v1/tenants/default/users/alice/methods",
        json={"kind": "sms", "phone": MOBILE},
        headers=admin,
    )
    assert r.status_code == 201, r.text


@pytest.mark.usefixtures("alice")
def test_deliveries_and_failures_by_gateway_in_the_window(
    app: App,
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    clock: FakeClock,
) -> None:
    down = f"http://127.0.0.1:{free_port()}/send"  # nothing listens there
    add(client, admin, {"name": "down", "kind": "http", "settings": {"url": down}, "position": 5})
    for _ in range(2):
        assert sign_in(client, integration_key)["reason"] == "delivery_failed"
        clock.advance(60)
    failed_at = clock.now() - 60
    dev = {"name": "dev", "kind": "outbox", "settings": {"path": "dev.jsonl"}, "position": 0}
    add(client, admin, dev)
    app.delivered.delivery._by_tenant.clear()  # a node rereads its gateway list every 5 s
    assert sign_in(client, integration_key)["result"] == "challenge"

    r = client.get(HEALTH, headers=admin)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["since"] == clock.now() - 24 * 3600 and report["undelivered"] == 2
    assert report["gateways"] == [
        {
            "name": "dev",
            "kind": "outbox",
            "position": 0,
            "deliveries": 1,
            "failures": 0,
            "last_delivery_at": clock.now(),
            "last_failure_at": None,
            "last_error": None,
        },
        {
            "name": "down",
            "kind": "http",
            "position": 5,
            "deliveries": 0,
            "failures": 2,
            "last_delivery_at": None,
            "last_failure_at": failed_at,
            "last_error": "http gateway down (127.0.0.1): cannot reach the provider (ConnectError)",
        },
    ]

    # Out of a 1-hour window a day later: nothing counted, the gateways still listed.
    clock.advance(24 * 3600)
    r = client.get(HEALTH, params={"hours": 1}, headers=admin)
    lines = r.json()["gateways"]
    assert [(g["name"], g["deliveries"], g["failures"]) for g in lines] == [
        ("dev", 0, 0),
        ("down", 0, 0),
    ]
    assert r.json()["undelivered"] == 0


@pytest.mark.usefixtures("alice")
def test_a_tenant_without_gateways_shows_the_outbox(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str], clock: FakeClock
) -> None:
    assert sign_in(client, integration_key)["result"] == "challenge"
    r = client.get(HEALTH, headers=admin)
    (outbox,) = r.json()["gateways"]
    assert (outbox["name"], outbox["kind"], outbox["position"]) == ("outbox", "outbox", None)
    assert (outbox["deliveries"], outbox["last_delivery_at"]) == (1, clock.now())


def test_the_window_is_1_to_168_hours(client: TestClient, admin: dict[str, str]) -> None:
    for hours in (0, 169):
        r = client.get(HEALTH, params={"hours": hours}, headers=admin)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request")
    assert client.get(HEALTH, params={"hours": 168}, headers=admin).status_code == 200


def test_a_tenant_admin_sees_its_own_tenant_only(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    r = client.post(
        "/v1/keys",
        json={"name": "acme-admin", "role": "tenant_admin", "tenant": "acme"},
        headers=admin,
    )
    acme = {"Authorization": f"Bearer {r.json()['key']}"}
    assert client.get("/v1/tenants/acme/gateways/health", headers=acme).status_code == 200
    r = client.get(HEALTH, headers=acme)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "tenant_not_found")
    assert client.get(HEALTH).status_code == 401
