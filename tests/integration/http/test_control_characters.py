"""The text rule at the HTTP edge: a control character or a lone surrogate anywhere in a
request (body, path, query) is a 422 with a stable code on both databases, is never stored,
never logs a traceback, and a sign-in refused this way is audited."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from twostep.bootstrap import App
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

JSON = {"Content-Type": "application/json"}


def refused(r: Response, field: str) -> None:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_request", field), error
    assert "control character" in error["message"]


@pytest.fixture(autouse=True)
def no_traceback(caplog: pytest.LogCaptureFixture) -> object:
    caplog.set_level(logging.INFO)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


@pytest.fixture
def alice(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    assert r.status_code == 201, r.text


# -- paths and queries ---------------------------------------------------------------------


def test_a_webhook_path_with_a_nul(client: TestClient) -> None:
    refused(client.post("/v1/gateways/gw_x%00/inbound", content=b"{}"), "gateway")


@pytest.mark.parametrize("verb", ["get", "post"])
def test_a_transaction_id_with_a_nul(
    client: TestClient, integration_key: dict[str, str], verb: str
) -> None:
    kwargs = {"json": {"code": "123456"}} if verb == "post" else {}
    r = getattr(client, verb)("/v1/validate/a%00b", headers=integration_key, **kwargs)
    refused(r, "transaction_id")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/tenants/default/users/a%00b", "user"),
        ("/v1/tenants/a%00b", "tenant"),
        ("/v1/tenants/default/users/a%C2%85b/methods", "user"),  # U+0085, a C1 control
        ("/v1/tenants/default/audit?user=a%00b", "user"),
        ("/v1/tenants/default/users?after=a%00b", "after"),
        ("/v1/tenants/default/tokens?serial_prefix=%1B", "serial_prefix"),
    ],
)
def test_admin_paths_and_queries(
    client: TestClient, admin: dict[str, str], path: str, field: str
) -> None:
    refused(client.get(path, headers=admin), field)


def test_a_path_that_matches_no_route_is_refused_all_the_same(client: TestClient) -> None:
    refused(client.get("/v1/nothing%00"), "path")


# -- bodies ---------------------------------------------------------------------------------


def test_a_users_first_name_is_refused_and_nothing_is_stored(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    r = client.post(
        "/v1/tenants/default/users", json={"user": "bob", "first_name": "B\x00b"}, headers=admin
    )
    refused(r, "first_name")
    assert app.admin.list_users(OPERATOR, "default") == []


@pytest.mark.usefixtures("alice")
def test_an_oath_token_label_is_refused_and_nothing_is_stored(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    body = {"kind": "oath_token", "serial": "S1", "secret": "JBSWY3DPEHPK3PXP", "label": "a\x00"}
    refused(
        client.post("/v1/tenants/default/users/alice/methods", json=body, headers=admin), "label"
    )
    assert app.enroll.list(OPERATOR, "default", "alice") == []


def test_a_keys_tenant(client: TestClient, admin: dict[str, str]) -> None:
    body = {"name": "ops", "role": "tenant_admin", "tenant": "de\x00fault"}
    refused(client.post("/v1/keys", json=body, headers=admin), "tenant")


def test_a_lone_surrogate_in_a_json_string(client: TestClient, admin: dict[str, str]) -> None:
    body = b'{"user": "al\\ud800ice"}'
    r = client.post("/v1/tenants/default/users", content=body, headers={**admin, **JSON})
    refused(r, "user")


def test_keys_and_nested_values_of_settings(client: TestClient, admin: dict[str, str]) -> None:
    r = client.patch("/v1/tenants/default/settings", json={"issuer\x07": 1}, headers=admin)
    refused(r, "issuer\\x07")  # the field is named, escaped
    r = client.patch(
        "/v1/tenants/default/settings",
        json={"allowed_calling_codes": ["1", "4\x004"]},
        headers=admin,
    )
    refused(r, "allowed_calling_codes.1")


def test_an_outbox_path_with_a_nul(client: TestClient, app: App, admin: dict[str, str]) -> None:
    body = {"name": "dev", "kind": "outbox", "settings": {"path": "out\x00.jsonl"}}
    refused(client.post("/v1/tenants/default/gateways", json=body, headers=admin), "settings.path")
    assert app.gateways.list(OPERATOR, "default") == []


def test_an_outbox_path_with_a_nul_through_the_service(app: App) -> None:
    from twostep.domain.errors import InvalidSetting

    with pytest.raises(InvalidSetting) as caught:
        app.gateways.add(OPERATOR, "default", "dev", "outbox", {"path": "out\x00.jsonl"})
    assert caught.value.field == "path"


# -- sign-ins ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user": "bob\x00", "code": "123456"}, "user"),
        ({"user": "bob", "code": "12\x003456"}, "code"),
        ({"user": "bob", "tenant": "default\x00"}, "tenant"),
    ],
)
def test_a_refused_sign_in_is_audited(
    client: TestClient, app: App, integration_key: dict[str, str], body: dict[str, str], field: str
) -> None:
    r = client.post(
        "/v1/validate", json={**body, "client_ip": "203.0.113.7"}, headers=integration_key
    )
    refused(r, field)
    (event,) = app.audit.query(OPERATOR, "default")
    assert (event.result, event.reason, event.integration) == ("reject", "invalid_request", "web")
    assert event.user == body["user"].replace("\x00", "\\x00")
    assert event.client_ip == "203.0.113.7"


def test_a_refused_sign_in_without_a_valid_key_is_401_and_not_audited(
    client: TestClient, app: App
) -> None:
    for headers in ({}, {"Authorization": "Bearer tsi_0123456789abcdef_nope"}):
        r = client.post("/v1/validate", json={"user": "bob\x00"}, headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthenticated")
    assert app.audit.query(OPERATOR, "default") == []


def test_a_key_with_a_control_character_is_no_key(client: TestClient) -> None:
    r = client.get("/v1/tenants", headers={"Authorization": "Bearer tsa_\x01"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthenticated")
