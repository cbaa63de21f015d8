"""The device API over HTTP: activation, signed requests, long-polls on both sides."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.devices import FakeDevice
from tests.support.fakes import FakeClock
from twostep.bootstrap import App

pytestmark = pytest.mark.usefixtures("backend")


def activated(client: TestClient, admin: dict[str, str]) -> FakeDevice:
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    r = client.post("/v1/tenants/default/users/alice/devices/activations", headers=admin)
    assert r.status_code == 201, r.text
    started = r.json()
    assert started["activation_uri"].startswith("twostep://activate?url=")
    assert started["qr_svg"].startswith("<") and started["qr_png"].startswith("data:image/png")
    phone = FakeDevice.new()
    body = {
        "code": started["activation_code"],
        "key_type": "ed25519",
        "public_key": phone.public_key(),
        "name": "Alice's phone",
        "push": {"kind": "pull"},
    }
    r = client.post("/v1/devices/activate", json=body)
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["user"] == "alice" and done["totp"]["otpauth_uri"].startswith("otpauth://totp/")
    again = client.post("/v1/devices/activate", json=body)
    assert (again.status_code, again.json()["error"]["code"]) == (404, "activation_invalid")
    phone.device_id = done["device_id"]
    return phone


def signed_get(client: TestClient, phone: FakeDevice, path: str) -> Any:
    return client.get(path, headers={"Authorization": phone.header("GET", path, now())})


def now() -> float:
    """The tests' server runs on a fake clock (tests/conftest.py): sign with its time."""
    return FakeClock().now()


def test_a_push_sign_in_end_to_end(
    app: App, client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    phone = activated(client, admin)
    r = client.post(
        "/v1/validate", json={"user": "alice", "client_ip": "203.0.113.7"}, headers=integration_key
    )
    answer = r.json()
    assert answer["result"] == "challenge" and 10 <= answer["number"] <= 99
    tx = answer["transaction_id"]

    requests = signed_get(client, phone, f"/v1/devices/{phone.id}/requests").json()["requests"]
    assert [q["transaction_id"] for q in requests] == [tx]
    nonce = requests[0]["nonce"]
    outcome: dict[str, Any] = {}

    def wait() -> None:
        started = time.monotonic()
        r = client.get(f"/v1/validate/{tx}?wait=20", headers=integration_key)
        outcome.update(r.json(), took=time.monotonic() - started)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)
    path = f"/v1/devices/{phone.id}/requests/{tx}"
    body = {
        "decision": "approve",
        "number": answer["number"],
        "nonce": nonce,
        "signature": phone.answer(tx, "approve", answer["number"], nonce),
    }
    r = client.post(path, json=body, headers={"Authorization": phone.header("POST", path, now())})
    assert r.json() == {"result": "accept", "reason": None}
    waiter.join(timeout=20)
    assert outcome["result"] == "accept" and outcome["took"] < 5


def test_the_device_long_poll_wakes_when_a_request_arrives(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    phone = activated(client, admin)
    got: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        r = signed_get(client, phone, f"/v1/devices/{phone.id}/requests?wait=20")
        got.update(r.json(), took=time.monotonic() - started)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.3)
    client.post("/v1/validate", json={"user": "alice"}, headers=integration_key)
    poller.join(timeout=20)
    assert len(got["requests"]) == 1 and got["took"] < 5


def test_a_device_sets_a_new_push_channel(client: TestClient, admin: dict[str, str]) -> None:
    phone = activated(client, admin)
    path = f"/v1/devices/{phone.id}/push"
    body = {"push": {"kind": "ntfy", "url": "http://127.0.0.1:9/twostep-alice"}}
    r = client.put(path, json=body, headers={"Authorization": phone.header("PUT", path, now())})
    assert r.json() == {"device_id": phone.id, "push": "ntfy"}
    [listed] = client.get("/v1/tenants/default/users/alice/devices", headers=admin).json()
    assert listed["push"] == "ntfy"
    bad = {"push": {"kind": "ntfy", "url": "ftp://example.net/x"}}
    r = client.put(path, json=bad, headers={"Authorization": phone.header("PUT", path, now())})
    assert r.status_code == 422
    r = client.put(path, json=body)
    assert r.status_code == 401


def test_unsigned_and_revoked_devices_are_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    phone = activated(client, admin)
    path = f"/v1/devices/{phone.id}/requests"
    r = client.get(path)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthenticated")
    other = FakeDevice.new()
    other.device_id = phone.device_id
    r = client.get(path, headers={"Authorization": other.header("GET", path, now())})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthenticated")

    r = client.delete(f"/v1/tenants/default/users/alice/devices/{phone.id}", headers=admin)
    assert r.status_code == 204
    r = signed_get(client, phone, path)
    assert r.status_code == 403
    assert r.json()["error"] == {
        "code": "account_not_activated",
        "message": "Authentication request is not for an activated account",
    }


def test_devices_are_listed_and_renamed(client: TestClient, admin: dict[str, str]) -> None:
    phone = activated(client, admin)
    base = "/v1/tenants/default/users/alice/devices"
    [listed] = client.get(base, headers=admin).json()
    assert (listed["id"], listed["name"], listed["push"], listed["state"]) == (
        phone.id,
        "Alice's phone",
        "pull",
        "active",
    )
    r = client.patch(f"{base}/{phone.id}", json={"name": "old phone"}, headers=admin)
    assert r.json()["name"] == "old phone"
