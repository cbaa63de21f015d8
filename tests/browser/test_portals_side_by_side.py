"""One Chromium signed in to both portals at once: the management portal (``/admin``) and
the self-service portal (``/my``) keep a session cookie each, scoped to their own pages, so
signing out of /my leaves /admin signed in."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import PASSWORD, Site, totp
from tests.browser.portal import sign_in

pytestmark = pytest.mark.slow


def test_signing_out_of_my_leaves_the_admin_signed_in(page: Page, site: Site) -> None:
    admin = site.new_user("tenant_admin")
    sign_in(page, site, admin)  # /admin, with the current step's code
    page.goto(f"{site.url}/my/signin")
    page.locator("#user").fill(admin.user)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/my/verify")
    # The next step's code (within the tenant's window of one step): the current one is spent.
    page.locator("#code").fill(totp(admin.secret, time.time() + 30))
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/my")
    expect(page.get_by_text("Your security info")).to_be_visible()

    cookies = {c["name"]: c for c in page.context.cookies()}
    assert (cookies["twostep_admin"]["path"], cookies["twostep_my"]["path"]) == ("/admin", "/my")
    # Each page set's address gets its own session cookie only.
    sent = {c["name"] for c in page.context.cookies(f"{site.url}/my/signin")}
    assert "twostep_my" in sent and "twostep_admin" not in sent
    assert cookies["twostep_admin"]["value"] != cookies["twostep_my"]["value"]
    page.goto(f"{site.url}/admin")  # both at once
    expect(page).to_have_url(f"{site.url}/admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Management portal")

    page.goto(f"{site.url}/my")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/my/signin")
    page.goto(f"{site.url}/my")
    expect(page).to_have_url(f"{site.url}/my/signin")  # signed out of /my
    names = {c["name"] for c in page.context.cookies()}
    assert "twostep_my" not in names and "twostep_admin" in names

    page.goto(f"{site.url}/admin")
    expect(page).to_have_url(f"{site.url}/admin")  # still signed in to the management portal
    expect(page.get_by_role("heading", level=1)).to_have_text("Management portal")


@pytest.mark.parametrize("path", ["/my/signin", "/admin/signin"])
def test_the_language_switch_works_at_each_page_set(page: Page, site: Site, path: str) -> None:
    """The switch posts to its page set's own address (its form token is that set's)."""
    page.goto(f"{site.url}{path}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#language").select_option("ko")
    page.locator("form.switch button").click()
    expect(page).to_have_url(f"{site.url}{path}")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
