"""Enrollment links over the admin API: made once for a user with no method,
listed without their URL, revoked; a tenant admin reaches only its own tenant's users."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR
from twostep.services.enrollment_links import PATH

pytestmark = pytest.mark.usefixtures("backend")

BASE = "/v1/tenants/default/users/alice/enrollment-links"


def test_made_shown_once_listed_and_revoked(
    app: App, client: TestClient, admin: dict[str, str]
) -> None:
    builders.user(app, "alice")
    made = client.post(BASE, headers=admin)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "open" and PATH in body["url"]
    token = body["url"].split(PATH, 1)[1]
    assert app.enrollment_links.look(token).user == "alice"
    [listed] = client.get(BASE, headers=admin).json()
    assert "url" not in listed and listed["id"] == body["id"]
    assert client.delete(BASE, headers=admin).json() == {"revoked": 1}
    assert client.get(BASE, headers=admin).json()[0]["status"] == "revoked"


def test_not_for_a_registered_user(app: App, client: TestClient, admin: dict[str, str]) -> None:
    builders.enrolled_user(app)
    refused = client.post(BASE, headers=admin)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "user_registered"


def test_another_tenants_admin_cannot_make_one(app: App, client: TestClient) -> None:
    builders.user(app, "alice")
    app.admin.create_tenant(OPERATOR, "acme")
    _key, secret = app.admin.create_admin_key(OPERATOR, "acme", Role.TENANT_ADMIN, "acme")
    refused = client.post(BASE, headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "tenant_not_found"
    assert app.enrollment_links.list(OPERATOR, "default", "alice") == []
