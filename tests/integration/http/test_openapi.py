"""The OpenAPI description is the contract: every operation lists the error statuses it can
answer with the one error body, and its constraints are the ones the server enforces."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from twostep.factors.oath_token import MAX_COUNTER

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]  # type: ignore[no-any-return]


def test_every_error_answer_has_the_one_error_body(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        for status, answer in op["responses"].items():
            if int(status) >= 400:
                body = answer["content"]["application/json"]["schema"]
                assert body == {"$ref": ERROR_REF}, (method, path, status)
    error = schema(spec, "Error")
    assert error["required"] == ["error"]
    assert set(schema(spec, "ErrorInfo")["required"]) == {"code", "message"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_every_operation_lists_what_it_can_answer(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        statuses = {int(s) for s in op["responses"]}
        where = (method, path)
        if "requestBody" in op:
            assert {400, 413, 422} <= statuses, where
        if op.get("parameters"):
            assert 422 in statuses, where  # the text rule, a range, a pattern
        if op.get("security"):
            assert {401, 403} <= statuses, where
        if "{" in path:
            assert 404 in statuses, where
        if method != "get" and path.startswith(("/v1/tenants", "/v1/keys")):
            assert 409 in statuses, where
    resend = spec["paths"]["/v1/validate/{transaction_id}/resend"]["post"]["responses"]
    assert {"409", "429"} <= set(resend)
    for path in ("/v1/devices/{device}/requests", "/v1/devices/{device}/push"):
        for op in spec["paths"][path].values():
            assert {"401", "403", "404"} <= set(op["responses"]), path
    for path in ("/v1/gateways/{gateway}/inbound", "/v1/gateways/{gateway}/calls"):
        assert {"403", "404", "422"} <= set(spec["paths"][path]["post"]["responses"]), path


def test_a_local_password_is_8_to_100_characters(
    spec: dict[str, Any], client: TestClient, admin: dict[str, str]
) -> None:
    password = schema(spec, "PasswordBody")["properties"]["password"]
    assert (password["minLength"], password["maxLength"]) == (8, 100)
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    url = "/v1/tenants/default/users/alice/password"
    for given, status in (("a" * 7, 422), ("a" * 101, 422), ("a" * 8, 204), ("a" * 100, 204)):
        r = client.put(url, json={"password": given}, headers=admin)
        assert r.status_code == status, (len(given), r.text)


def test_an_empty_since_is_refused_by_the_schema_and_the_server(
    spec: dict[str, Any], client: TestClient, admin: dict[str, str]
) -> None:
    parameters = spec["paths"]["/v1/tenants/{tenant}/audit"]["get"]["parameters"]
    since = next(p for p in parameters if p["name"] == "since")["schema"]
    assert (since["anyOf"][0]["minLength"], since["format"]) == (1, "date-time")
    for query in ("since=", "until=", "since=2026-01-01t00:00:00z"):
        r = client.get(f"/v1/tenants/default/audit?{query}", headers=admin)
        assert r.status_code == (200 if query.endswith("z") else 422), (query, r.text)


def test_a_radius_network_like_0_is_refused_by_the_schema_and_the_server(
    spec: dict[str, Any], client: TestClient, admin: dict[str, str]
) -> None:
    pattern = schema(spec, "RadiusClientBody")["properties"]["network"]["pattern"]
    for network in ("0", "vpn.example.com", "10", ""):
        assert not re.search(pattern, network), network
        body = {"name": "vpn", "network": network}
        r = client.post("/v1/tenants/default/radius-clients", json=body, headers=admin)
        assert r.status_code == 422, (network, r.text)
    for network in ("192.0.2.1", "192.0.2.0/24", "2001:db8::/32", "::1"):
        assert re.search(pattern, network), network


def test_phone_methods_need_a_phone_in_the_schema_and_the_server(
    spec: dict[str, Any], client: TestClient, admin: dict[str, str]
) -> None:
    body = spec["paths"]["/v1/tenants/{tenant}/users/{user}/methods"]["post"]["requestBody"]
    union = body["content"]["application/json"]["schema"]
    assert union["discriminator"]["propertyName"] == "kind"
    assert set(union["discriminator"]["mapping"]) == {
        "app_code",
        "oath_token",
        "sms",
        "sms_reply",
        "voice",
        "email",
    }
    for name in ("SmsBody", "SmsReplyBody", "VoiceBody"):
        assert "phone" in schema(spec, name)["required"]
    assert "email" in schema(spec, "EmailBody")["required"]
    assert schema(spec, "OathTokenBody")["properties"]["counter"]["maximum"] == MAX_COUNTER
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    url = "/v1/tenants/default/users/alice/methods"
    for kind in ("sms", "sms_reply", "voice"):
        r = client.post(url, json={"kind": kind}, headers=admin)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == "phone"
    r = client.post(
        url, json={"kind": "sms", "phone": "+447400123456", "pin": "1234"}, headers=admin
    )
    assert (r.status_code, r.json()["error"]["field"]) == (422, "pin")
    for kind in ("app_push", "carrier_pigeon", None):
        r = client.post(url, json={"kind": kind} if kind else {}, headers=admin)
        assert (r.status_code, r.json()["error"]["field"]) == (422, "kind"), r.text


def test_tenant_settings_are_described_with_their_ranges(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/v1/tenants/{tenant}/settings"]["patch"]["requestBody"]
    settings = body["content"]["application/json"]["schema"]
    assert settings["additionalProperties"] is False
    codes = settings["properties"]["allowed_calling_codes"]
    assert codes["uniqueItems"] is True and codes["maxItems"] == 300
    totp_window = dict(settings["properties"]["totp_window"])
    assert totp_window.pop("description")  # every setting says what it does
    assert totp_window | {"default": 0} == {
        "type": "integer",
        "minimum": 0,
        "maximum": 10,
        "default": 0,
    }


def test_a_405_allows_every_documented_method_of_the_path(client: TestClient) -> None:
    for path, allowed in (
        ("/v1/keys", "GET, POST"),
        ("/v1/tenants/default/users/alice", "DELETE, GET, PATCH"),
        ("/v1/validate/tx_1", "GET, POST"),
    ):
        r = client.put(path)
        assert (r.status_code, r.json()["error"]["code"]) == (405, "method_not_allowed")
        assert r.headers["Allow"] == allowed, path


def test_a_client_ip_is_described_as_an_address(spec: dict[str, Any]) -> None:
    client_ip = schema(spec, "ValidateBody")["properties"]["client_ip"]["anyOf"][0]
    assert client_ip["anyOf"] == [{"format": "ipv4"}, {"format": "ipv6"}]


def test_every_answer_describes_the_request_id_it_carries(
    spec: dict[str, Any], client: TestClient
) -> None:
    for method, path, operation in operations(spec):
        for status, answer in operation["responses"].items():
            header = answer.get("headers", {}).get("X-Request-ID")
            assert header is not None, (method, path, status)
            assert header["schema"]["maxLength"] == 128
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/healthz").headers["x-request-id"])
    sent = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a"})
    assert sent.headers["x-request-id"] == "lb-7f3a"


def test_every_schema_has_a_plain_name(spec: dict[str, Any]) -> None:
    # Two models of one name get module-qualified names ("twostep__...__Body"): a client
    # generator would then name its types after our modules.
    assert [name for name in spec["components"]["schemas"] if name.startswith("twostep_")] == []
