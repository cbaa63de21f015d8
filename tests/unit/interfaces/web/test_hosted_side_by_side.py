"""The hosted sign-in page keeps its own session cookie (``twostep_signin``): an application's
sign-in through /signin neither ends nor reads the portal session the same browser holds at
/admin (``twostep_admin``), and the portal's sign-in does not end a hosted one."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.interfaces.web.conftest import PASSWORD, password_step
from tests.unit.interfaces.web.conftest import verify as admin_verify
from tests.unit.interfaces.web.test_hosted import Site, browser, csrf, returned, site, start, verify
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR

__all__ = ["browser", "site"]  # the hosted page's fixtures


def _admin(app: App, browser: TestClient, site: Site) -> str:
    """Alice, a tenant admin too, signed in at /admin: her portal session's cookie."""
    app.passwords.set_password(OPERATOR, "default", "alice", PASSWORD)
    app.admin_grants.grant(OPERATOR, "default", "alice", Role.TENANT_ADMIN)
    password_step(browser)
    done = admin_verify(browser, action="code", code=site.alice.totp(app.deps.clock.now()))
    assert done.headers["location"] == "/admin"  # type: ignore[attr-defined]
    portal = browser.cookies.get("twostep_admin")
    assert portal
    return portal


def test_a_portal_session_survives_a_hosted_sign_in(
    app: App, browser: TestClient, site: Site
) -> None:
    portal = _admin(app, browser, site)
    app.deps.clock.advance(30)  # type: ignore[attr-defined]  # the next code, not the same
    started = start(browser, site.request(app))
    assert started.headers["location"] == "/signin/verify"  # type: ignore[attr-defined]
    hosted = browser.cookies.get("twostep_signin")
    assert hosted and hosted != portal
    assert browser.get("/admin").status_code == 200  # still signed in to the portal
    done = verify(browser, action="code", code=site.alice.totp(app.deps.clock.now()))
    assert 'id="return"' in done.text  # type: ignore[attr-defined]
    assert returned(done.text).startswith("https://app.example.com/")  # type: ignore[attr-defined]
    assert browser.cookies.get("twostep_admin") == portal
    assert browser.get("/admin").status_code == 200


def test_a_hosted_sign_in_survives_a_portal_sign_in(
    app: App, browser: TestClient, site: Site
) -> None:
    start(browser, site.request(app))
    hosted = browser.cookies.get("twostep_signin")
    _admin(app, browser, site)
    assert browser.cookies.get("twostep_signin") == hosted
    app.deps.clock.advance(30)  # type: ignore[attr-defined]
    done = verify(browser, action="code", code=site.alice.totp(app.deps.clock.now()))
    assert 'id="return"' in done.text  # type: ignore[attr-defined]


def test_the_portal_session_opens_no_hosted_step(app: App, browser: TestClient, site: Site) -> None:
    """The portal's cookie under the hosted page's name is no sign-in in progress."""
    portal = _admin(app, browser, site)
    browser.cookies.set("twostep_signin", portal, domain="mfa.test", path="/signin")
    page = browser.get("/signin/verify")
    assert "took too long" in page.text


def test_the_language_switch_works_mid_way_through_a_hosted_sign_in(
    app: App, browser: TestClient, site: Site
) -> None:
    _admin(app, browser, site)
    start(browser, site.request(app))
    page = browser.get("/signin/verify")
    switched = browser.post(
        "/signin/switch-language",
        data={"csrf": csrf(page.text), "language": "ko", "next": "/signin/verify"},
    )
    assert (switched.status_code, switched.headers["location"]) == (303, "/signin/verify")
    assert 'lang="ko"' in browser.get("/signin/verify").text
