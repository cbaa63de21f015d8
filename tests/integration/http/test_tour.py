"""The README's tour through the HTTP API: user, authenticator app, sign-in, audit."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from tests.support.fakes import FakeClock
from twostep.domain.entities import OtpParams, OtpType
from twostep.factors import otp

pytestmark = pytest.mark.usefixtures("backend")


def test_tour(
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    clock: FakeClock,
) -> None:
    r = client.post(
        "/v1/tenants/default/users",
        json={
            "user": "alice",
            "first_name": "Alice",
            "email": "alice@example.com",
            "phone": "+1 415 555 0123",
            "mfa": "enforced",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "+14155550123"

    r = client.post(
        "/v1/tenants/default/users/alice/methods", json={"kind": "app_code"}, headers=admin
    )
    assert r.status_code == 201, r.text
    enrollment = r.json()
    assert enrollment["status"] == "pending"
    assert enrollment["otpauth_uri"].startswith("otpauth://totp/Twostep:alice?secret=")
    assert enrollment["qr_png"].startswith("data:image/png;base64,")
    assert enrollment["qr_svg"].startswith("<svg")
    seed = otp.parse_seed(enrollment["otpauth_uri"].split("secret=")[1].split("&")[0])
    params = OtpParams()

    def code(offset: int = 0) -> str:
        return otp.hotp(seed, params, otp.time_step(clock.now(), 30) + offset)

    r = client.post(
        f"/v1/tenants/default/users/alice/methods/{enrollment['id']}/confirm",
        json={"code": "000000"},
        headers=admin,
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_code"
    r = client.post(
        f"/v1/tenants/default/users/alice/methods/{enrollment['id']}/confirm",
        json={"code": code(-1)},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["status"] == "active" and r.json()["default"]

    r = client.post(
        "/v1/validate",
        json={"user": "alice", "code": code(), "client_ip": "203.0.113.7"},
        headers=integration_key,
    )
    assert r.json() == {
        "result": "accept",
        "reason": None,
        "transaction_id": None,
        "methods": ["app_code"],
        "number": None,
        "prompt": None,
        "message": None,
    }
    r = client.post("/v1/validate", json={"user": "alice", "code": code()}, headers=integration_key)
    assert r.json()["result"] == "reject" and r.json()["reason"] == "code_replayed"

    r = client.get("/v1/tenants/default/audit", headers=admin)
    assert r.status_code == 200
    page = r.json()
    assert [(e["user"], e["result"], e["client_ip"]) for e in page["events"]] == [
        ("alice", "accept", "203.0.113.7"),
        ("alice", "reject", None),
    ]
    assert page["next_cursor"] is None

    r = client.get("/v1/tenants/default/audit", headers={**admin, "Accept": "text/csv"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["result"] for row in rows] == ["accept", "reject"]
    assert rows[0]["integration"] == "web" and rows[0]["server_name"] == "node-a"


def test_the_seed_is_never_shown_after_enrollment(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/v1/tenants/default/users", json={"user": "bob"}, headers=admin)
    r = client.post(
        "/v1/tenants/default/users/bob/methods", json={"kind": "app_code"}, headers=admin
    )
    secret = r.json()["otpauth_uri"].split("secret=")[1].split("&")[0]
    for path in (
        "/v1/tenants/default/users/bob/methods",
        f"/v1/tenants/default/users/bob/methods/{r.json()['id']}",
        "/v1/tenants/default/users/bob",
        "/v1/tenants/default/audit",
    ):
        body = client.get(path, headers=admin).text
        assert secret not in body and "otpauth" not in body


def test_hardware_token_registration_and_resync(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    seed = bytes(range(20))
    params = OtpParams(type=OtpType.HOTP)
    client.post("/v1/tenants/default/users", json={"user": "carol"}, headers=admin)
    r = client.post(
        "/v1/tenants/default/users/carol/methods",
        headers=admin,
        json={
            "kind": "oath_token",
            "serial": "OATH123",
            "secret": otp.b32encode(seed),
            "otp_type": "hotp",
        },
    )
    assert r.status_code == 201, r.text
    assert "secret" not in r.json() and r.json()["serial"] == "OATH123"
    method = r.json()["id"]
    dup = client.post(
        "/v1/tenants/default/users/carol/methods",
        headers=admin,
        json={"kind": "oath_token", "serial": "OATH123", "secret": otp.b32encode(seed)},
    )
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "serial_in_use"
    r = client.post(
        f"/v1/tenants/default/users/carol/methods/{method}/resync",
        headers=admin,
        json={"first_code": otp.hotp(seed, params, 40), "second_code": otp.hotp(seed, params, 41)},
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/v1/validate",
        headers=integration_key,
        json={"user": "carol", "code": otp.hotp(seed, params, 42)},
    )
    assert r.json()["result"] == "accept"


def test_user_management(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post(
        "/v1/tenants/default/users", json={"user": "dave", "email": "d@example.com"}, headers=admin
    )
    assert r.json()["mfa"] == "enabled"
    r = client.patch(
        "/v1/tenants/default/users/dave", json={"mfa": "enforced", "email": None}, headers=admin
    )
    assert r.status_code == 200 and r.json()["mfa"] == "enforced" and r.json()["email"] is None
    assert client.get("/v1/tenants/default/users", headers=admin).json()[0]["user"] == "dave"
    assert client.post("/v1/tenants/default/users/dave/unlock", headers=admin).status_code == 200
    assert client.delete("/v1/tenants/default/users/dave", headers=admin).status_code == 204
    r = client.get("/v1/tenants/default/users/dave", headers=admin)
    assert r.status_code == 404 and r.json()["error"]["code"] == "user_not_found"


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/validate" in spec["paths"]
    assert "/v1/tenants/{tenant}/users/{user}/methods/{method_id}/confirm" in spec["paths"]
