"""The phone methods over HTTP: register, challenge, submit, long-poll, webhooks, gateways."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.phones import LANDLINE, MOBILE, code_of, sent_to
from twostep.adapters.gateways.common import sign
from twostep.bootstrap import App

pytestmark = pytest.mark.usefixtures("backend")


def register(client: TestClient, admin: dict[str, str], kind: str, number: str) -> dict[str, Any]:
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    r = client.post(
        "/v1/tenants/default/users/alice/methods",
        json={"kind": kind, "phone": number},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def challenge(client: TestClient, key: dict[str, str]) -> dict[str, Any]:
    r = client.post("/v1/validate", json={"user": "alice"}, headers=key)
    assert r.status_code == 200 and r.json()["result"] == "challenge", r.text
    body: dict[str, Any] = r.json()
    return body


def webhook(app: App, client: TestClient, path: str, data: dict[str, Any]) -> Any:
    body = json.dumps(data).encode()
    secret = app.delivered.delivery.outbox.webhook_secret
    headers = {"content-type": "application/json", "x-twostep-signature": sign(secret, body)}
    return client.post(path, content=body, headers=headers)


def test_an_sms_sign_in(
    app: App, client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    method = register(client, admin, "sms", MOBILE)
    assert method["phone"] == "+1 \u2022\u2022\u2022 0123" and method["status"] == "active"
    answer = challenge(client, integration_key)
    assert answer["prompt"] == "Enter the code sent to +1 \u2022\u2022\u2022 0123"
    tx = answer["transaction_id"]
    r = client.post(f"/v1/validate/{tx}", json={"code": code_of(app, tx)}, headers=integration_key)
    assert r.json()["result"] == "accept"
    assert client.get(f"/v1/validate/{tx}", headers=integration_key).json()["result"] == "accept"
    # The code sent again hears the outcome (and is audited as a replay).
    r = client.post(f"/v1/validate/{tx}", json={"code": code_of(app, tx)}, headers=integration_key)
    assert (r.json()["result"], r.json()["reason"]) == ("accept", None)


def test_a_two_way_sms_sign_in_wakes_the_long_poll(
    app: App, client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    register(client, admin, "sms_reply", MOBILE)
    tx = challenge(client, integration_key)["transaction_id"]
    outcome: dict[str, Any] = {}

    def wait() -> None:
        started = time.monotonic()
        r = client.get(f"/v1/validate/{tx}?wait=20", headers=integration_key)
        outcome.update(r.json(), took=time.monotonic() - started)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)
    r = webhook(
        app, client, "/v1/gateways/outbox/inbound", {"from": MOBILE, "text": code_of(app, tx)}
    )
    assert r.status_code == 204
    waiter.join(timeout=20)
    assert outcome["result"] == "accept" and outcome["took"] < 5


def test_a_long_poll_on_a_pending_transaction_answers_challenge_after_the_wait(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    register(client, admin, "sms", MOBILE)
    tx = challenge(client, integration_key)["transaction_id"]
    started = time.monotonic()
    r = client.get(f"/v1/validate/{tx}?wait=1", headers=integration_key)
    assert r.json()["result"] == "challenge" and 0.9 < time.monotonic() - started < 5


def test_a_voice_sign_in(
    app: App, client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    register(client, admin, "voice", LANDLINE)
    tx = challenge(client, integration_key)["transaction_id"]
    callback = sent_to(app, tx)["callback_url"]
    path = callback.split("127.0.0.1:8080", 1)[1]
    r = webhook(app, client, path, {"reference": tx, "digits": ""})
    assert r.status_code == 200 and "approved" in r.text
    assert client.get(f"/v1/validate/{tx}", headers=integration_key).json()["result"] == "accept"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/gateways/outbox/inbound", 403, "webhook_refused"),
        ("/v1/gateways/gw_nothere/inbound", 404, "gateway_not_found"),
        ("/v1/gateways/outbox/calls", 403, "webhook_refused"),
    ],
)
def test_unsigned_or_unknown_webhooks_are_refused(
    client: TestClient, path: str, status: int, code: str
) -> None:
    r = client.post(path, json={"from": MOBILE, "text": "123456"})
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)


def test_transactions_answer_404_when_unknown(
    client: TestClient, integration_key: dict[str, str]
) -> None:
    for r in (
        client.get("/v1/validate/" + "x" * 300, headers=integration_key),
        client.post("/v1/validate/nope", json={"code": "123456"}, headers=integration_key),
        client.post("/v1/validate/nope/resend", headers=integration_key),
    ):
        assert (r.status_code, r.json()["error"]["code"]) == (404, "transaction_not_found")


def test_resend_too_soon_is_409(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    register(client, admin, "sms", MOBILE)
    tx = challenge(client, integration_key)["transaction_id"]
    r = client.post(f"/v1/validate/{tx}/resend", headers=integration_key)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "resend_refused")


def test_gateways_are_managed_through_the_admin_api(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {
        "name": "sms-api",
        "kind": "http",
        "settings": {
            "url": "https://sms.example.net/send",
            "body": {"to": "{to}", "text": "{text}"},
            "headers": {"Authorization": "Bearer {api_key}"},
            "api_key": "abc123",
        },
    }
    r = client.post("/v1/tenants/default/gateways", json=body, headers=admin)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["inbound_url"].endswith(f"/v1/gateways/{made['id']}/inbound")
    assert "abc123" not in r.text
    listed = client.get("/v1/tenants/default/gateways", headers=admin).json()
    assert [g["name"] for g in listed] == ["sms-api"] and "abc123" not in json.dumps(listed)
    again = client.post("/v1/tenants/default/gateways", json=body, headers=admin)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "gateway_exists")
    bad = client.post(
        "/v1/tenants/default/gateways", json={**body, "name": "x", "kind": "pigeon"}, headers=admin
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_setting")
    r = client.delete("/v1/tenants/default/gateways/sms-api", headers=admin)
    assert r.status_code == 204
    assert client.get("/v1/tenants/default/gateways", headers=admin).json() == []


def test_phone_methods_refuse_numbers_they_cannot_reach(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    r = client.post(
        "/v1/tenants/default/users/alice/methods",
        json={"kind": "sms", "phone": LANDLINE},
        headers=admin,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "number_not_allowed")
