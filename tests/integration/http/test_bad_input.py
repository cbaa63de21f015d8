"""Bad input gets a 4xx with a stable code, never a 500, and nothing half-written."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twostep.bootstrap import App
from twostep.services.admin import OPERATOR


def error(r: object) -> str:
    return r.json()["error"]["code"]  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"", 422, "invalid_request"),
        (b"[]", 422, "invalid_request"),
        (b'{"code": "123456"}', 422, "invalid_request"),
        (b'{"user": 42, "code": "123456"}', 422, "invalid_request"),
        (b'{"user": "alice", "code": 123456}', 422, "invalid_request"),
        (b'{"user": "alice", "method": "carrier_pigeon"}', 422, "invalid_request"),
        (b'{"user": "alice", "client_ip": "not-an-ip"}', 422, "invalid_request"),
        (b'{"user": "alice", "extra": 1}', 422, "invalid_request"),
        (b'{"user": ""}', 422, "invalid_request"),
    ],
)
def test_malformed_validate_requests(
    client: TestClient, integration_key: dict[str, str], body: bytes, status: int, code: str
) -> None:
    r = client.post(
        "/v1/validate",
        content=body,
        headers={**integration_key, "Content-Type": "application/json"},
    )
    assert (r.status_code, error(r)) == (status, code)


def test_the_error_never_echoes_the_code(
    client: TestClient, integration_key: dict[str, str]
) -> None:
    r = client.post(
        "/v1/validate", json={"user": "a", "code": "987654" * 20}, headers=integration_key
    )
    assert r.status_code == 422 and "987654" not in r.text


def test_bodies_over_64_kib_are_refused(
    client: TestClient, integration_key: dict[str, str]
) -> None:
    big = json.dumps({"user": "a" * 70_000})
    r = client.post(
        "/v1/validate", content=big, headers={**integration_key, "Content-Type": "application/json"}
    )
    assert (r.status_code, error(r)) == (413, "body_too_large")


def test_chunked_bodies_over_64_kib_are_refused(
    client: TestClient, integration_key: dict[str, str]
) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"user": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}'

    r = client.post(
        "/v1/validate",
        content=chunks(),
        headers={**integration_key, "Content-Type": "application/json"},
    )
    assert (r.status_code, error(r)) == (413, "body_too_large")


def test_unknown_tenant(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/v1/tenants/nope/users", json={"user": "a"}, headers=admin)
    assert (r.status_code, error(r)) == (404, "tenant_not_found")


def test_invalid_phone_writes_nothing(client: TestClient, app: App, admin: dict[str, str]) -> None:
    r = client.post("/v1/tenants/default/users", json={"user": "a", "phone": "12"}, headers=admin)
    assert (r.status_code, error(r)) == (422, "invalid_phone_number")
    assert app.admin.list_users(OPERATOR, "default") == []


def test_duplicate_user(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/v1/tenants/default/users", json={"user": "a"}, headers=admin)
    r = client.post("/v1/tenants/default/users", json={"user": "a"}, headers=admin)
    assert (r.status_code, error(r)) == (409, "user_exists")


def test_invalid_token_secret_writes_nothing(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    client.post("/v1/tenants/default/users", json={"user": "a"}, headers=admin)
    r = client.post(
        "/v1/tenants/default/users/a/methods",
        headers=admin,
        json={"kind": "oath_token", "serial": "S1", "secret": "not base32!"},
    )
    assert (r.status_code, error(r)) == (422, "invalid_request")
    assert app.enroll.list(OPERATOR, "default", "a") == []


def test_unknown_routes_and_verbs(client: TestClient) -> None:
    assert error(client.get("/v1/nothing")) == "not_found"
    assert error(client.put("/v1/validate")) == "method_not_allowed"


def test_bad_audit_queries(client: TestClient, admin: dict[str, str]) -> None:
    for query in (
        "since=yesterday",
        "since=2026-01-01T00:00:00",
        "cursor=abc",
        "limit=0",
        "result=maybe",
    ):
        r = client.get(f"/v1/tenants/default/audit?{query}", headers=admin)
        assert r.status_code in (400, 422), query


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        k: json_values | st.text(max_size=300)
        for k in ("user", "code", "tenant", "method", "client_ip", "x")
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=fields | json_values)
def test_any_json_body_gets_an_answer_not_a_500(
    client: TestClient, integration_key: dict[str, str], body: object
) -> None:
    r = client.post("/v1/validate", json=body, headers=integration_key)
    assert r.status_code in (200, 403, 422), r.text
    if r.status_code == 200:
        assert r.json()["result"] == "reject"


# -- bodies that are not JSON, and the validate API's key first ------------------------------


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"user": "\xff\xfe"}', "application/json"),  # not UTF-8
        ('{"user": "jos\u00e9"}'.encode("latin-1"), "application/json; charset=latin-1"),
        (b"[" * 20_000 + b"]" * 20_000, "application/json"),  # deeper than the parser goes
        (b'{"user": 1' + b"0" * 5000 + b"}", "application/json"),  # an int of 5001 digits
    ],
)
def test_bodies_that_are_not_utf8_json_are_malformed_json(
    client: TestClient, integration_key: dict[str, str], body: bytes, content_type: str
) -> None:
    for path in ("/v1/validate", "/v1/validate/tx_1"):
        headers = {**integration_key, "Content-Type": content_type}
        r = client.post(path, content=body, headers=headers)
        assert (r.status_code, error(r)) == (400, "malformed_json"), (path, r.text)


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"user": "\xff"}', b"[]", b'{"user": ""}', b'{"user": "a", "x": 1}', b""],
)
@pytest.mark.parametrize(
    "key",
    [None, "Bearer tsi_0123456789abcdef_not-a-key", "Basic YTpi"],
)
def test_the_validate_api_checks_the_key_before_the_body(
    client: TestClient, app: App, body: bytes, key: str | None
) -> None:
    headers = {"Content-Type": "application/json", **({"Authorization": key} if key else {})}
    for path in ("/v1/validate", "/v1/validate/tx_1"):
        r = client.post(path, content=body, headers=headers)
        assert (r.status_code, error(r)) == (401, "unauthenticated"), (path, body)
        assert r.headers["WWW-Authenticate"] == "Bearer"


def test_with_a_valid_key_the_body_is_judged(
    client: TestClient, integration_key: dict[str, str]
) -> None:
    headers = {**integration_key, "Content-Type": "application/json"}
    r = client.post("/v1/validate", content=b'{"user": ""}', headers=headers)
    assert (r.status_code, error(r)) == (422, "invalid_request")
    assert r.json()["error"]["field"] == "user"
