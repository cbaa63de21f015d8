"""Remember-device at the hosted sign-in page, in a real Chromium against a real ``twostep
serve``: the second factor with "remember this device" ticked, then a sign-in that skips
it (audited as remembered_device), then the admin revokes the browser and the factor is
asked again. The cookie is HttpOnly, SameSite=Lax and scoped to /signin."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import Site, check_accessibility, ok
from tests.browser.test_hosted_signin import CALLBACK, App, answer_callbacks
from twostep.clients import signin

pytestmark = pytest.mark.slow


@pytest.fixture
def remembering(site: Site) -> Iterator[None]:
    """The tenant remembers browsers for this test only (the site is shared)."""
    with site.api() as api:
        ok(api.patch("/v1/tenants/default/settings", json={"remember_device_enabled": True}))
    yield
    with site.api() as api:
        ok(api.patch("/v1/tenants/default/settings", json={"remember_device_enabled": False}))


def result_of(page: Page, app: App, state: str) -> signin.Result:
    page.wait_for_url(f"{CALLBACK}?**")
    query = parse_qs(urlsplit(page.url).query)
    return signin.verify_result(
        query["result"][0], key_id=app.key_id, secret=app.secret, state=state
    )


@pytest.mark.usefixtures("remembering")
def test_remembered_then_skipped_then_revoked(page: Page, site: Site) -> None:
    answer_callbacks(page)
    app, user = App(site), site.new_user(role=None)

    page.goto(app.request(user.user, "first"))
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/signin/verify")
    remember = page.get_by_label("Remember this device for 14 days")
    check_accessibility(page)
    remember.check()
    page.locator("#code").fill(user.code())
    page.locator("form.stack button").click()
    first = result_of(page, app, "first")
    assert first.accepted and first.method == "app_code"
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "twostep_device"]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Lax", "/signin")

    page.goto(app.request(user.user, "second"))  # no second factor this time
    page.locator("form.stack button").click()
    second = result_of(page, app, "second")
    assert second.accepted and second.user == user.user
    with site.api() as api:
        events = ok(api.get("/v1/tenants/default/audit", params={"user": user.user})).json()
        assert events["events"][-1]["reason"] == "remembered_device"
        base = f"/v1/tenants/default/users/{user.user}/remembered-devices"
        assert ok(api.delete(base)).json() == {"revoked": 1}

    page.goto(app.request(user.user, "third"))  # revoked: asked again
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/signin/verify")
    expect(page.locator("#code")).to_be_visible()
