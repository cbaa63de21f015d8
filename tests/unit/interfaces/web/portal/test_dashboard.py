"""The dashboard: today's sign-ins by result and method, locked users and fraud reports
(the usage service), the gateways' health; a global admin's for another tenant."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support import builders
from tests.unit.interfaces.web.portal.conftest import SignIn
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR


def figure(html: str, name: str) -> int:
    found = re.search(
        rf"<th scope=\"row\">{re.escape(name)}</th><td class=\"number-cell\">(\d+)", html
    )
    assert found is not None, name
    return int(found.group(1))


def fact(html: str, name: str) -> int:
    found = re.search(rf"<dt>{re.escape(name)}</dt><dd>(\d+)</dd>", html)
    assert found is not None, name
    return int(found.group(1))


def test_the_dashboard_counts_todays_sign_ins_and_locked_users(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    alice = app.admin.get_user(OPERATOR, "default", "alice")
    with app.deps.storage.transaction(write=True) as tx:
        tx.users.lock(alice.id, app.deps.clock.now() + 900)
    admin_as(Role.HELP_DESK)  # a challenge (password right), then an accept (the code)
    html = pages.get("/admin").text
    assert "Management portal" in html and "Help desk" in html
    assert figure(html, "Accepted") == 1 and figure(html, "Challenged") == 1
    assert figure(html, "Rejected") == 0
    assert figure(html, "Code from an authenticator app") == 2  # both carry the method
    assert fact(html, "Locked users") == 1
    assert fact(html, "Fraud reports today") == 0
    assert '<th scope="row">outbox</th>' in html  # no gateway: the built-in outbox


def test_a_global_admin_sees_another_tenants_dashboard(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    admin_as(Role.GLOBAL_ADMIN)
    html = pages.get("/admin/tenants/acme").text
    assert "Organisation: acme" in html
    assert figure(html, "Accepted") == 0  # the admin signed in to default, not acme
    assert figure(pages.get("/admin").text, "Accepted") == 1
