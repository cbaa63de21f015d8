"""A device's push channel over HTTP: /openapi.json shows it as one object per push kind
(told apart by ``kind``, fields write-only), and a refused channel answers as before:
422 invalid_request naming ``push.<field>``, the activation code still usable."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.devices import FakeDevice

pytestmark = pytest.mark.usefixtures("backend")

KINDS = {"pull", "webpush", "ntfy", "fcm"}


def activation(client: TestClient, admin: dict[str, str], push: Any) -> dict[str, Any]:
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    r = client.post("/v1/tenants/default/users/alice/devices/activations", headers=admin)
    assert r.status_code == 201, r.text
    body = {"code": r.json()["activation_code"], "public_key": FakeDevice.new().public_key()}
    return body if push is None else body | {"push": push}


@pytest.mark.parametrize(
    ("push", "field"),
    [
        ({"kind": "ntfy", "url": "ftp://ntfy.example.net/t"}, "push.url"),
        ({"kind": "ntfy"}, "push.url"),
        ({"kind": "ntfy", "url": "https://ntfy.example.net/t", "token": "x"}, "push.token"),
        ({"kind": "ntfy", "url": 5}, "push.url"),  # every value a string
        ({"kind": "ntfy", "url": "https://ntfy.example.net/" + "t" * 2100}, "push.url"),
        ({"kind": "pull", "url": "https://ntfy.example.net/t"}, "push.url"),
        ({"kind": "carrier-pigeon"}, "push"),
    ],
)
def test_a_refused_channel_names_its_field_and_spends_no_code(
    client: TestClient, admin: dict[str, str], push: dict[str, Any], field: str
) -> None:
    body = activation(client, admin, push)
    r = client.post("/v1/devices/activate", json=body)
    error = r.json()["error"]
    assert (r.status_code, error["code"], error["field"]) == (422, "invalid_request", field)
    r = client.post("/v1/devices/activate", json=body | {"push": {"kind": "pull"}})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("push", [None, {"kind": "pull"}, {}])
def test_without_a_channel_the_device_pulls(
    client: TestClient, admin: dict[str, str], push: Any
) -> None:
    r = client.post("/v1/devices/activate", json=activation(client, admin, push))
    assert r.status_code == 201, r.text
    [device] = client.get("/v1/tenants/default/users/alice/devices", headers=admin).json()
    assert device["push"] == "pull"


def test_openapi_shows_each_push_kind(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for body in ("ActivateBody", "PushBody"):
        push = schemas[body]["properties"]["push"]
        assert push["discriminator"]["propertyName"] == "kind"
        assert set(push["discriminator"]["mapping"]) == KINDS
    assert schemas["ActivateBody"]["properties"]["push"]["default"] == {"kind": "pull"}
    webpush = schemas["WebPushChannel"]
    assert set(webpush["required"]) == {"kind", "endpoint", "p256dh", "auth"}
    assert webpush["additionalProperties"] is False
    assert webpush["properties"]["endpoint"]["maxLength"] == 2048
    assert all(webpush["properties"][f]["writeOnly"] for f in ("endpoint", "p256dh", "auth"))
    assert schemas["NtfyChannel"]["properties"]["url"]["writeOnly"] is True
    assert schemas["FcmChannel"]["properties"]["token"]["writeOnly"] is True
    assert set(schemas["PullChannel"]["properties"]) == {"kind"}
