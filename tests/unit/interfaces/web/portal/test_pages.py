"""Every page of the management portal answers a tenant admin, in English and Korean, with
the security headers; a visitor without a session goes to the sign-in."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.unit.interfaces.web.portal.conftest import SignIn
from twostep.bootstrap import App
from twostep.domain.entities import Role

PAGES = [
    "/admin",
    "/admin/tenants",
    "/admin/tenants/default",
    "/admin/tenants/default/users",
    "/admin/tenants/default/users?q=ali",
    "/admin/tenants/default/users/alice",
    "/admin/tenants/default/tokens",
    "/admin/tenants/default/integrations",
    "/admin/tenants/default/gateways",
    "/admin/tenants/default/settings",
    "/admin/tenants/default/audit",
    "/admin/tenants/default/admin-audit",
]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_page_answers_a_tenant_admin(
    app: App, pages: TestClient, admin_as: SignIn, language: str
) -> None:
    builders.enrolled_user(app, "alice")
    admin_as(Role.TENANT_ADMIN)
    pages.cookies.set("twostep_lang", language, domain="mfa.test")
    for path in PAGES:
        answer = pages.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert f'<html lang="{language}">' in answer.text
        assert "Content-Security-Policy" in answer.headers
        assert answer.headers["Cache-Control"] == "no-store"


def test_without_a_session_every_page_goes_to_the_sign_in(pages: TestClient) -> None:
    for path in PAGES:
        answer = pages.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/admin/signin"), path
