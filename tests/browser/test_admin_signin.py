"""The management portal's sign-in in a real Chromium against a real ``twostep serve``:
password and an authenticator code (computed by oathtool), the pages' accessibility in
English and Korean, CSRF, session expiry and revocation, cookie flags and headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import PASSWORD, Admin, Site, check_accessibility, read_qr

pytestmark = pytest.mark.slow


def password_step(page: Page, site: Site, user: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.url}/admin/signin")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Next").click()


def sign_in(page: Page, site: Site, admin: Admin) -> None:
    password_step(page, site, admin.user)
    expect(page).to_have_url(f"{site.url}/admin/signin/verify")
    page.get_by_label("Code from an authenticator app").fill(admin.code())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{site.url}/admin")


def test_an_admin_signs_in_with_password_and_authenticator_code(page: Page, site: Site) -> None:
    admin = site.new_user("tenant_admin")
    sign_in(page, site, admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Management portal")
    expect(page.get_by_text(f"Signed in as {admin.user} (default)")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/admin/signin")
    page.goto(f"{site.url}/admin")
    expect(page).to_have_url(f"{site.url}/admin/signin")


def test_the_enrollment_qr_code_reads_back_as_the_secret(
    page: Page, site: Site, tmp_path: Path
) -> None:
    """The harness's QR reader on an <img> in the browser (the enrollment's own QR code)."""
    admin = site.new_user(role=None)
    page.set_content(f'<img id="qr" alt="QR code" src="{admin.qr_png}">')
    assert read_qr(page.locator("#qr").screenshot(), tmp_path) == admin.otpauth


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_page_passes_axe_in_both_languages(page: Page, site: Site, language: str) -> None:
    page.set_extra_http_headers({"Accept-Language": language})
    admin, plain = site.new_user("help_desk"), site.new_user(role=None)
    page.goto(f"{site.url}/admin/signin")
    expect(page.locator("html")).to_have_attribute("lang", language)
    check_accessibility(page)  # the sign-in form
    page.locator("#user").fill(admin.user)
    page.locator("#password").fill("wrong password")
    page.locator("form.stack button").click()
    expect(page.locator(".message")).to_be_visible()
    check_accessibility(page)  # the failed sign-in
    page.locator("#user").fill(admin.user)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/admin/signin/verify")
    check_accessibility(page)  # the second factor
    page.locator("#code").fill("000000")
    page.locator("form.stack button").click()
    expect(page.locator(".message")).to_be_visible()
    check_accessibility(page)  # a wrong code
    page.locator("#code").fill(admin.code())
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/admin")
    check_accessibility(page)  # the landing page
    page.context.clear_cookies()
    page.goto(f"{site.url}/admin/signin")
    page.locator("#user").fill(plain.user)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button").click()
    page.locator("#code").fill(plain.code())
    page.locator("form.stack button").click()
    expect(page.locator(".message")).to_be_visible()
    check_accessibility(page)  # signed in without a role: refused


def test_korean_appears_with_accept_language_ko(page: Page, site: Site) -> None:
    page.set_extra_http_headers({"Accept-Language": "ko-KR,ko;q=0.9"})
    page.goto(f"{site.url}/admin/signin")
    expect(page.get_by_role("heading", level=1)).to_have_text("관리 포털 로그인")
    expect(page.get_by_label("비밀번호")).to_be_visible()


def test_a_user_without_a_grant_is_refused(page: Page, site: Site) -> None:
    plain = site.new_user(role=None)
    password_step(page, site, plain.user)
    page.get_by_label("Code from an authenticator app").fill(plain.code())
    with page.expect_response(re.compile(r"/admin/signin/verify$")) as answer:
        page.get_by_role("button", name="Verify").click()
    assert answer.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("no administrator role")


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(page: Page, site: Site) -> None:
    admin = site.new_user("tenant_admin")
    sign_in(page, site, admin)
    for form in ({}, {"csrf": "0" * 72}):
        refused = page.request.post(f"{site.url}/admin/signout", form=form)
        assert refused.status == 403, form
    cross_site = page.request.post(
        f"{site.url}/admin/signout",
        form={"csrf": page.locator("input[name=csrf]").first.get_attribute("value") or ""},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status == 403
    page.reload()
    expect(page).to_have_url(f"{site.url}/admin")  # still signed in


def test_cookie_flags_and_security_headers(page: Page, site: Site) -> None:
    admin = site.new_user("tenant_admin")
    password_step(page, site, admin.user)
    page.get_by_label("Code from an authenticator app").fill(admin.code())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{site.url}/admin")
    # Chromium keeps a Secure cookie from http://127.0.0.1 (loopback is a secure context):
    # the signed-in page above needed it.
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["twostep_admin"]
    assert (session["secure"], session["httpOnly"], session["sameSite"], session["path"]) == (
        True,
        True,
        "Strict",
        "/admin",  # sent to the management portal's pages only
    )
    answer = page.goto(f"{site.url}/admin")
    assert answer is not None
    headers = answer.headers
    assert headers["content-security-policy"].startswith("default-src 'none'")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert (headers["x-content-type-options"], headers["cache-control"]) == ("nosniff", "no-store")
    assert headers["referrer-policy"] == "same-origin"


def test_the_session_expires_when_idle_and_a_revoked_one_is_refused(page: Page, site: Site) -> None:
    with site.api() as api:
        settings = {"page_idle_seconds": 60}
        assert api.patch("/v1/tenants/default/settings", json=settings).is_success
    try:
        admin = site.new_user("tenant_admin")
        sign_in(page, site, admin)
        site.age_sessions(admin.user, 61)  # a minute unused
        page.goto(f"{site.url}/admin")
        expect(page).to_have_url(f"{site.url}/admin/signin")

        again = site.new_user("tenant_admin")
        sign_in(page, site, again)
        with site.api() as api:
            ended = api.delete(f"/v1/tenants/default/users/{again.user}/sessions")
        assert ended.json() == {"ended": 1}
        page.goto(f"{site.url}/admin")
        expect(page).to_have_url(f"{site.url}/admin/signin")
    finally:
        with site.api() as api:
            api.patch("/v1/tenants/default/settings", json={"page_idle_seconds": 900})


def test_the_stylesheet_and_script_are_served_and_no_inline_script_runs(
    page: Page, site: Site
) -> None:
    css = page.request.get(f"{site.url}/static/site.css")
    js = page.request.get(f"{site.url}/static/poll.js")
    assert css.ok and css.headers["content-type"].startswith("text/css")
    assert js.ok and "javascript" in js.headers["content-type"]
    page.goto(f"{site.url}/admin/signin")
    outline = page.evaluate(
        "() => { const u = document.getElementById('user'); u.focus();"
        " return getComputedStyle(u).outlineStyle; }"
    )
    assert outline == "solid"  # the stylesheet loaded under the CSP: focus is visible


def test_the_accessibility_check_fails_on_a_serious_violation(page: Page) -> None:
    """The harness's own check: an unlabelled field and an image without text are caught."""
    page.set_content('<html lang="en"><title>t</title><main><input id="x"><img src="data:,">')
    with pytest.raises(AssertionError, match="label"):
        check_accessibility(page)
