"""The hosted sign-in page in a real Chromium against a real ``twostep serve``: an
application's signed request, the authenticator code (computed by oathtool), the way back
to the application with a result the helper verifies and redeems once; a tampered request
stops on an error page. axe-core on every page, in English and Korean."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.harness import Site, check_accessibility, ok
from tests.browser.portal import screenshot
from twostep.clients import signin

pytestmark = pytest.mark.slow

# The application's callback: answered by the test (Playwright's routing), not a server.
CALLBACK = "http://127.0.0.1:9/mfa/callback"


class App:
    """An application registered for the hosted page, through the admin API."""

    def __init__(self, site: Site) -> None:
        name = f"app-{secrets.token_hex(3)}"
        with site.api() as api:
            base = f"/v1/tenants/default/integrations/{name}"
            self.key = ok(api.post("/v1/tenants/default/integrations", json={"name": name})).json()[
                "key"
            ]
            ok(api.put(f"{base}/signin/return-urls", json={"return_urls": [CALLBACK]}))
            issued = ok(api.post(f"{base}/signin/secret")).json()
        self.name, self.key_id, self.secret = name, issued["key_id"], issued["secret"]
        self.site = site

    def request(self, user: str, state: str) -> str:
        return signin.make_request(
            self.site.url,
            key_id=self.key_id,
            secret=self.secret,
            user=user,
            redirect_uri=CALLBACK,
            state=state,
        )


def answer_callbacks(page: Page) -> None:
    def callback(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<title>app</title>signed in")

    page.route(f"{CALLBACK}**", callback)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_code_signs_in_and_the_application_verifies_the_result(
    page: Page, site: Site, language: str, tmp_path: Path
) -> None:
    page.set_extra_http_headers({"Accept-Language": language})
    answer_callbacks(page)
    app, user = App(site), site.new_user(role=None)
    page.goto(app.request(user.user, "state-1"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    check_accessibility(page)  # whom it signs in
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/signin/verify")
    check_accessibility(page)  # the second factor
    screenshot(page, "signin-code", language, tmp_path)
    page.locator("#code").fill("000000")
    page.locator("form.stack button").click()
    expect(page.locator(".message")).to_be_visible()
    check_accessibility(page)  # a wrong code
    page.locator("#code").fill(user.code())
    page.locator("form.stack button").click()
    page.wait_for_url(f"{CALLBACK}?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["state-1"]
    result = signin.verify_result(
        query["result"][0], key_id=app.key_id, secret=app.secret, state="state-1"
    )
    assert result.accepted and result.user == user.user and result.method == "app_code"
    signin.redeem(site.url, integration_key=app.key, jti=result.jti)
    with pytest.raises(signin.RedeemError) as again:
        signin.redeem(site.url, integration_key=app.key, jti=result.jti)
    assert again.value.code == "signin_result_redeemed"


def test_a_tampered_request_stops_on_an_error_page(page: Page, site: Site) -> None:
    answer_callbacks(page)
    app, user = App(site), site.new_user(role=None)
    head, body, mac = parse_qs(urlsplit(app.request(user.user, "s"))[3])["request"][0].split(".")
    # Another user's claims under this request's signature; and a request signed with a
    # secret that is not the application's.
    other = parse_qs(urlsplit(app.request("someone-else", "s"))[3])["request"][0].split(".")[1]
    forged = signin.make_request(
        site.url,
        key_id=app.key_id,
        secret="tss_" + "x" * 43,
        user=user.user,
        redirect_uri=CALLBACK,
        state="s",
    )
    assert other != body
    for tampered in (f"{site.url}/signin?request={head}.{other}.{mac}", forged):
        page.goto(tampered)
        expect(page.get_by_text("signin_request_signature")).to_be_visible()
        assert page.url.startswith(f"{site.url}/signin")
        assert page.locator("form.stack button").count() == 0  # nothing to start
        check_accessibility(page)
