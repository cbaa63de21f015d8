"""The management portal's session in a real Chromium: a help desk's one-time bypass does
not sign a tenant admin in to /admin on the password alone (Twostep protects itself), and
the session survives the same browser's hosted sign-in for an application (the hosted page
keeps its own cookie)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import PASSWORD, Site, ok
from tests.browser.portal import sign_in
from tests.browser.test_hosted_signin import CALLBACK, App, answer_callbacks

pytestmark = pytest.mark.slow


def test_a_bypass_does_not_skip_the_admins_second_factor(page: Page, site: Site) -> None:
    admin = site.new_user("tenant_admin")
    with site.api() as api:
        ok(api.post(f"/v1/tenants/default/users/{admin.user}/bypass", json={"seconds": 600}))
    page.goto(f"{site.url}/admin/signin")
    page.locator("#user").fill(admin.user)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/admin/signin/verify")  # the code is still asked
    page.goto(f"{site.url}/admin")
    expect(page).to_have_url(f"{site.url}/admin/signin")  # no session on the password alone
    with site.api() as api:
        user = ok(api.get(f"/v1/tenants/default/users/{admin.user}")).json()
    assert user["bypass_until"] is not None  # not spent at /admin


def test_a_portal_session_survives_a_hosted_sign_in_in_the_same_browser(
    page: Page, site: Site
) -> None:
    admin, other = site.new_user("tenant_admin"), site.new_user(role=None)
    sign_in(page, site, admin)
    answer_callbacks(page)
    app = App(site)
    page.goto(app.request(other.user, "state-side"))
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/signin/verify")
    page.locator("#code").fill(other.code())
    page.locator("form.stack button").click()
    page.wait_for_url(f"{CALLBACK}?**")
    page.goto(f"{site.url}/admin")
    expect(page).to_have_url(f"{site.url}/admin")  # still signed in
    expect(page.get_by_role("heading", level=1)).to_have_text("Management portal")
    names = {cookie["name"] for cookie in page.context.cookies(f"{site.url}/admin")}
    assert "twostep_admin" in names  # the hosted page cleared only its own
