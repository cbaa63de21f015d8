"""Every number a client sends has a range the storage holds: outside it, a 422 on both
databases, never a 500 (a BIGINT overflow on PostgreSQL, an OverflowError on SQLite)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from twostep.bootstrap import App
from twostep.domain.entities import OtpParams, OtpType
from twostep.domain.settings import TenantSettings
from twostep.domain.tokens import TokenRecord
from twostep.factors import otp
from twostep.factors.oath_token import MAX_COUNTER, STORED_COUNTER_MAX
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

SECRET = "JBSWY3DPEHPK3PXP"
HOTP = OtpParams(type=OtpType.HOTP)
USERS = "/v1/tenants/default/users"


def status_code(r: object) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]  # type: ignore[attr-defined]


@pytest.fixture
def alice(client: TestClient, admin: dict[str, str]) -> None:
    assert client.post(USERS, json={"user": "alice"}, headers=admin).status_code == 201


def hotp_body(counter: int, serial: str = "H1") -> dict[str, object]:
    return {"kind": "oath_token", "serial": serial, "secret": SECRET, "otp_type": "hotp",
            "counter": counter}  # fmt: skip


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("counter", [2**63, 2**63 - 1, MAX_COUNTER + 1, -1, 10**40])
def test_a_hotp_counter_out_of_range_is_422(
    client: TestClient, app: App, admin: dict[str, str], counter: int
) -> None:
    r = client.post(f"{USERS}/alice/methods", json=hotp_body(counter), headers=admin)
    assert status_code(r) == (422, "invalid_request"), r.text
    assert r.json()["error"]["field"] == "counter"
    assert app.enroll.list(OPERATOR, "default", "alice") == []


@pytest.mark.usefixtures("alice")
def test_the_largest_counter_is_accepted_and_validates(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    r = client.post(f"{USERS}/alice/methods", json=hotp_body(MAX_COUNTER), headers=admin)
    assert r.status_code == 201, r.text
    seed = otp.parse_seed(SECRET)
    ahead = TenantSettings().otp.hotp_lookahead
    body = {"user": "alice", "code": otp.hotp(seed, HOTP, MAX_COUNTER + ahead)}
    r = client.post("/v1/validate", json=body, headers=integration_key)
    assert (r.status_code, r.json()["result"]) == (200, "accept")


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("start", [STORED_COUNTER_MAX - 1, STORED_COUNTER_MAX])
def test_validation_never_moves_a_counter_past_what_is_stored(
    client: TestClient, app: App, integration_key: dict[str, str], start: int
) -> None:
    """A token imported near the end of the counter space (a vendor file may say so):
    its codes up to the last storable counter work, past it nothing is claimed."""
    seed = otp.parse_seed(SECRET)
    record = TokenRecord("H1", seed, HOTP, upn="alice", counter=start)  # as a vendor's file
    app.tokens.import_records(OPERATOR, "default", [record])
    results = []
    for counter in (start, start + 1):
        body = {"user": "alice", "code": otp.hotp(seed, HOTP, counter)}
        r = client.post("/v1/validate", json=body, headers=integration_key)
        assert r.status_code == 200, r.text
        results.append((r.json()["result"], r.json()["reason"]))
    if start < STORED_COUNTER_MAX:
        assert results == [("accept", None), ("reject", "invalid_code")]
    else:
        assert results == [("reject", "invalid_code"), ("reject", "invalid_code")]


@pytest.mark.parametrize(
    "query",
    [
        "/v1/tenants/default/users?limit=100000000000000000000",
        "/v1/tenants/default/audit?limit=-1",
        "/v1/tenants/default/audit?cursor=9999999999999999999",
        "/v1/tenants/default/tokens?limit=1e3",
    ],
)
def test_integers_in_queries(client: TestClient, admin: dict[str, str], query: str) -> None:
    assert status_code(client.get(query, headers=admin)) == (422, "invalid_request")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"max_failures": 2**63}, "invalid_setting"),
        ({"lockout_seconds": -(2**70)}, "invalid_setting"),
        ({"allowed_calling_codes": ["44"] * 5000}, "invalid_setting"),
        ({"allowed_calling_codes": ["1", "44", "1"]}, "invalid_setting"),
        ({"allowed_calling_codes": [str(n) for n in range(1, 302)]}, "invalid_setting"),
        ({"alert_webhook_url": "https://example.com/" + "a" * 2000}, "invalid_setting"),
        ({"push_message": "Sign-in\nfrom {client_ip}"}, "invalid_request"),
    ],
)
def test_tenant_settings_out_of_range(
    client: TestClient, admin: dict[str, str], changes: dict[str, object], code: str
) -> None:
    r = client.patch("/v1/tenants/default/settings", json=changes, headers=admin)
    assert status_code(r) == (422, code), r.text
    assert client.get("/v1/tenants/default/settings", headers=admin).json()["max_failures"] == 10


def test_a_gateway_position_and_a_radius_push_wait(
    client: TestClient, admin: dict[str, str]
) -> None:
    gateway = {"name": "dev", "kind": "outbox", "settings": {"path": "o.jsonl"}, "position": 2**63}
    r = client.post("/v1/tenants/default/gateways", json=gateway, headers=admin)
    assert status_code(r) == (422, "invalid_request")
    nas = {"name": "vpn", "network": "192.0.2.1", "push_wait_seconds": 2**63}
    r = client.post("/v1/tenants/default/radius-clients", json=nas, headers=admin)
    assert status_code(r) == (422, "invalid_request")


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity"])
def test_numbers_json_has_not(
    client: TestClient, app: App, admin: dict[str, str], number: bytes
) -> None:
    """Python's parser takes them; no answer could carry them back (nor PostgreSQL's JSON)."""
    body = b'{"name": "h", "kind": "http", "settings": {"url": "https://x.test", "body": '
    body += b'{"to": "{to}", "n": ' + number + b"}}}"
    headers = {**admin, "Content-Type": "application/json"}
    r = client.post("/v1/tenants/default/gateways", content=body, headers=headers)
    assert status_code(r) == (422, "invalid_request"), r.text
    assert app.gateways.list(OPERATOR, "default") == []


def test_deep_settings_are_refused_not_stored(client: TestClient, admin: dict[str, str]) -> None:
    deep: object = "x"
    for _ in range(500):
        deep = {"a": deep}
    gateway = {"name": "h", "kind": "http", "settings": {"url": "https://x.test", "body": deep}}
    r = client.post(
        "/v1/tenants/default/gateways",
        content=json.dumps(gateway),
        headers={**admin, "Content-Type": "application/json"},
    )
    assert status_code(r) == (422, "invalid_request"), r.text
