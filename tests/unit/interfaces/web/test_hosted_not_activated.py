"""The hosted sign-in page after the tenant's provider was replaced (issue 15, item 2): the
application's integration waits to be activated again, so its signed requests stop on the
error page with ``integration_not_activated`` (in English and Korean), nothing starts, a
sign-in in progress goes no further, and a result issued before cannot be redeemed. Once
an admin activates the integration again, requests signed with its new key id work, with
the same signing secret."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from twostep.bootstrap import App
from twostep.clients import signin
from twostep.domain.billing import BillingModel
from twostep.domain.results import Decision, Result
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR

CALLBACK = "https://app.example.com/mfa/callback"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
_RETURN = re.compile(r'<a href="([^"]+)" id="return">')
EN = "cannot use two-step verification until your administrator activates it again"
KO = "관리자가 이 애플리케이션을 다시 활성화할 때까지"


@pytest.fixture
def browser(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app), base_url="https://mfa.test", follow_redirects=False) as client:
        yield client


@dataclass(frozen=True)
class Site:
    secret: str  # the application's signing secret
    key: str  # its integration's API key (redeems results)
    alice: builders.Enrolled


@pytest.fixture
def site(app: App) -> Site:
    _integration, key = builders.integration(app, "intranet")
    app.hosted_signin.set_return_urls(OPERATOR, "default", "intranet", [CALLBACK])
    _config, secret = app.hosted_signin.issue_secret(OPERATOR, "default", "intranet")
    alice = builders.enrolled_user(app, "alice")
    app.providers.create(OPERATOR, "old", BillingModel.PER_USER, "default")
    return Site(secret, key, alice)


def key_id(app: App) -> str:
    return app.hosted_signin.config(OPERATOR, "default", "intranet").key_id


def request_path(app: App, secret: str) -> str:
    url = signin.make_request(
        "https://mfa.test",
        key_id=key_id(app),
        secret=secret,
        user="alice",
        redirect_uri=CALLBACK,
        state="s-1",
        now=app.deps.clock.now(),
    )
    return url.removeprefix("https://mfa.test")


def replace_provider(app: App) -> None:
    [old] = [p for p in app.providers.list(OPERATOR) if p.deleted_at is None]
    app.providers.delete(OPERATOR, old.id)
    app.providers.create(OPERATOR, "new", BillingModel.PER_USER, "default")


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no form token on the page"
    return found.group(1)


def start(browser: TestClient, path: str) -> object:
    landing = browser.get(path)
    assert landing.status_code == 200, landing.text
    token = parse_qs(urlsplit(path).query)["request"][0]
    return browser.post("/signin", data={"csrf": csrf(landing.text), "request": token})


def verify(browser: TestClient, **form: str) -> object:
    token = csrf(browser.get("/signin/verify").text)
    return browser.post("/signin/verify", data={"csrf": token, **form})


def test_a_held_back_applications_request_stops_on_the_error_page(
    app: App, browser: TestClient, site: Site
) -> None:
    replace_provider(app)
    path = request_path(app, site.secret)
    landing = browser.get(path)
    assert landing.status_code == 403
    assert "integration_not_activated" in landing.text and EN in landing.text
    korean = browser.get(path, headers={"Accept-Language": "ko"})
    assert korean.status_code == 403 and 'lang="ko"' in korean.text and KO in korean.text
    token = parse_qs(urlsplit(path).query)["request"][0]
    posted = browser.post("/signin", data={"csrf": csrf(landing.text), "request": token})
    assert posted.status_code == 403 and "integration_not_activated" in posted.text
    assert "/signin/verify" not in posted.headers.get("location", "")
    assert app.audit.query(OPERATOR, "default", user="alice") == []  # nothing started

    pair = app.activations.generate(OPERATOR, "default", "intranet")
    app.activations.exchange(pair.code, pair.password)  # a new key id, the same secret
    started = start(browser, request_path(app, site.secret))
    assert started.headers["location"] == "/signin/verify"  # type: ignore[attr-defined]


def test_a_wrongly_signed_request_is_not_told_the_integration_is_held_back(
    app: App, browser: TestClient, site: Site
) -> None:
    replace_provider(app)
    forged = request_path(app, "tss_" + "x" * 43)
    page = browser.get(forged)
    assert "integration_not_activated" not in page.text
    assert "signin_request_signature" in page.text


def test_a_sign_in_in_progress_goes_no_further(app: App, browser: TestClient, site: Site) -> None:
    start(browser, request_path(app, site.secret))
    replace_provider(app)
    right = site.alice.totp(app.deps.clock.now())  # the integration alone stops it
    done = verify(browser, action="code", code=right)
    assert 'id="return"' not in done.text  # type: ignore[attr-defined]
    events = app.audit.query(OPERATOR, "default", user="alice")
    assert [e.result for e in events if e.result == "accept"] == []


def test_a_result_issued_before_the_replacement_cannot_be_redeemed(
    app: App, browser: TestClient, site: Site
) -> None:
    path = request_path(app, site.secret)
    request = app.hosted_signin.check(parse_qs(urlsplit(path).query)["request"][0])
    issued = app.hosted_signin.issue(request, Decision(Result.ACCEPT), "app_code")
    replace_provider(app)
    redeemed = browser.post(
        f"/v1/signin/results/{issued.jti}/redeem", headers={"Authorization": f"Bearer {site.key}"}
    )
    assert redeemed.status_code == 403
    assert redeemed.json()["error"]["code"] == "integration_not_activated"
