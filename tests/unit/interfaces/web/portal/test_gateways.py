"""Gateways: added with the kind's settings (credentials sealed, never shown again), listed
in failover order with their health, deleted; settings that are no JSON object refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.interfaces.web.portal.conftest import SignIn, post
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR

PAGE = "/admin/tenants/default/gateways"
HTTP = (
    '{"url": "https://sms.example.com/send", "headers": {"Authorization": "Bearer s3cr3t-t0ken"},'
    ' "body": {"to": "{to}", "text": "{text}"}}'
)


def test_a_gateway_is_added_listed_without_its_credentials_and_deleted(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    added = post(pages, PAGE, PAGE, name="main", kind="http", settings=HTTP)
    assert added.headers.get("location") == PAGE + "?done=gateway_added", added.text  # type: ignore[attr-defined]
    listed = pages.get(PAGE).text
    assert '<th scope="row">main</th><td>http</td>' in listed
    assert "s3cr3t-t0ken" not in listed
    (gateway,) = app.gateways.list(OPERATOR, "default")
    assert gateway.kind == "http"
    post(pages, PAGE, PAGE + "/delete", name="main")
    assert app.gateways.list(OPERATOR, "default") == []


def test_settings_that_are_not_a_json_object_are_refused(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    refused = post(pages, PAGE, PAGE, name="main", kind="http", settings="[1, 2]")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "The settings must be a JSON object." in refused.text  # type: ignore[attr-defined]
    bad = post(pages, PAGE, PAGE, name="main", kind="http", settings='{"url": 3}')
    assert bad.status_code == 422 and "invalid_setting" in bad.text  # type: ignore[attr-defined]
    assert app.gateways.list(OPERATOR, "default") == []
