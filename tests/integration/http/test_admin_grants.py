"""``/v1/admins``: granting and revoking roles for the management portal; ending a user's
page sessions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.domain.pages import Stage
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")


def test_grant_list_and_revoke(app: App, client: TestClient, admin: dict[str, str]) -> None:
    builders.user(app, "alice")
    made = client.post(
        "/v1/admins",
        json={"tenant": "default", "user": "alice", "role": "help_desk"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    grant = made.json()
    assert {k: grant[k] for k in ("tenant", "user", "role", "scope")} == {
        "tenant": "default",
        "user": "alice",
        "role": "help_desk",
        "scope": "default",
    }
    assert client.get("/v1/admins", headers=admin).json() == [grant]
    again = client.post(
        "/v1/admins",
        json={"tenant": "default", "user": "alice", "role": "help_desk"},
        headers=admin,
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "admin_grant_exists")
    assert client.delete(f"/v1/admins/{grant['id']}", headers=admin).status_code == 204
    gone = client.delete(f"/v1/admins/{grant['id']}", headers=admin)
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "admin_grant_not_found")


def test_an_unknown_user_or_role_is_refused(
    app: App, client: TestClient, admin: dict[str, str]
) -> None:
    nobody = client.post(
        "/v1/admins",
        json={"tenant": "default", "user": "nobody", "role": "help_desk"},
        headers=admin,
    )
    assert nobody.json()["error"]["code"] == "user_not_found"
    builders.user(app, "alice")
    odd = client.post(
        "/v1/admins", json={"tenant": "default", "user": "alice", "role": "root"}, headers=admin
    )
    assert odd.status_code == 422


def test_an_integration_key_may_not_grant(
    app: App, client: TestClient, integration_key: dict[str, str]
) -> None:
    builders.user(app, "alice")
    refused = client.post(
        "/v1/admins",
        json={"tenant": "default", "user": "alice", "role": "global_admin"},
        headers=integration_key,
    )
    assert refused.status_code == 401


def test_an_admin_key_is_never_help_desk(client: TestClient, admin: dict[str, str]) -> None:
    refused = client.post("/v1/keys", json={"name": "desk", "role": "help_desk"}, headers=admin)
    assert refused.status_code == 422


def test_ending_a_users_page_sessions(app: App, client: TestClient, admin: dict[str, str]) -> None:
    builders.user(app, "alice")
    user = app.admin.get_user(OPERATOR, "default", "alice")
    token = app.page_sessions.open(user.tenant_id, user.id, Stage.SIGNED_IN, role=Role.HELP_DESK)
    ended = client.delete("/v1/tenants/default/users/alice/sessions", headers=admin)
    assert ended.json() == {"ended": 1}
    assert app.page_sessions.find(token) is None
