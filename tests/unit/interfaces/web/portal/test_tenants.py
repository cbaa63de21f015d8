"""Roles and tenants: a tenant admin reaches its own tenant only (another's pages answer 403
and show nothing of it); a help desk neither changes settings nor creates keys; a global
admin lists every tenant and switches between them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.unit.interfaces.web.portal.conftest import SignIn, post
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR

OTHER = [
    "/admin/tenants/acme",
    "/admin/tenants/acme/users",
    "/admin/tenants/acme/users/wile",
    "/admin/tenants/acme/tokens",
    "/admin/tenants/acme/integrations",
    "/admin/tenants/acme/gateways",
    "/admin/tenants/acme/settings",
    "/admin/tenants/acme/audit",
    "/admin/tenants/acme/audit.csv",
    "/admin/tenants/acme/admin-audit",
    "/admin/tenants/acme/admin-audit.csv",
]


@pytest.fixture
def acme(app: App) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    builders.user(app, "wile", tenant="acme", email="wile@acme.example")
    app.admin.create_integration(OPERATOR, "acme", "acme-vpn")


def test_a_tenant_admin_cannot_reach_another_tenants_pages(
    app: App, pages: TestClient, admin_as: SignIn, acme: None
) -> None:
    admin_as(Role.TENANT_ADMIN)
    for path in OTHER:
        answer = pages.get(path)
        assert answer.status_code == 403, path
        shown = answer.text.replace(path, "")  # the language switch comes back to it
        assert "wile" not in shown and "acme-vpn" not in shown, path
        assert "organisation you do not manage" in answer.text
    token_page = "/admin/tenants/default/users"
    for path, form in [
        ("/admin/tenants/acme/users/wile/disable", {}),
        ("/admin/tenants/acme/settings", {"max_failures": "3"}),
        ("/admin/tenants/acme/integrations", {"name": "sneaky"}),
    ]:
        answer = post(pages, token_page, path, **form)
        assert answer.status_code == 403, path  # type: ignore[attr-defined]
    assert not app.admin.get_user(OPERATOR, "acme", "wile").disabled
    assert app.admin.get_tenant(OPERATOR, "acme").settings.lockout.max_failures == 10
    assert [i.name for i in app.admin.list_integrations(OPERATOR, "acme")] == ["acme-vpn"]


def test_the_tenants_list_shows_only_ones_own_tenant(
    pages: TestClient, admin_as: SignIn, acme: None
) -> None:
    admin_as(Role.TENANT_ADMIN)
    listed = pages.get("/admin/tenants")
    assert listed.status_code == 200
    assert 'href="/admin/tenants/default"' in listed.text and "acme" not in listed.text


def test_a_global_admin_lists_and_switches_tenants(
    pages: TestClient, admin_as: SignIn, acme: None
) -> None:
    admin_as(Role.GLOBAL_ADMIN)
    listed = pages.get("/admin/tenants").text
    assert 'href="/admin/tenants/acme"' in listed and 'href="/admin/tenants/default"' in listed
    dashboard = pages.get("/admin/tenants/acme")
    assert dashboard.status_code == 200 and "Organisation: acme" in dashboard.text
    users = pages.get("/admin/tenants/acme/users")
    assert "wile" in users.text


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/admin/tenants/default/settings", {"max_failures": "3"}),
        ("/admin/tenants/default/integrations", {"name": "keys"}),
        ("/admin/tenants/default/integrations/radius", {"name": "nas", "network": "10.0.0.1"}),
        ("/admin/tenants/default/gateways", {"name": "g", "kind": "outbox"}),
    ],
)
def test_a_help_desk_changes_no_settings_and_creates_no_keys(
    app: App, pages: TestClient, admin_as: SignIn, path: str, form: dict[str, str]
) -> None:
    admin_as(Role.HELP_DESK)
    assert pages.get(path.removesuffix("/radius")).status_code == 403  # the form's page
    answer = post(pages, "/admin", path, **form)
    assert answer.status_code == 403  # type: ignore[attr-defined]
    assert "Your role does not allow this page." in answer.text  # type: ignore[attr-defined]
    assert app.admin.list_integrations(OPERATOR, "default") == []
    assert app.admin.get_tenant(OPERATOR, "default").settings.lockout.max_failures == 10


def test_a_post_without_the_form_token_is_refused(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.user(app, "alice")
    admin_as(Role.TENANT_ADMIN)
    answer = pages.post("/admin/tenants/default/users/alice/disable", data={"csrf": "0" * 64})
    assert answer.status_code == 403
    assert not app.admin.get_user(OPERATOR, "default", "alice").disabled
