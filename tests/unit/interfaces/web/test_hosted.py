"""The hosted sign-in page through the ASGI app (https, so Secure cookies travel): a signed
request shows whom it signs in; the second factor runs under the request's integration;
the user goes back to the listed return URL with a result the helper verifies. A bad
request shows an error page and never sends the user anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.support import builders, phones
from tests.support.devices import FakeDevice
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.clients import signin
from twostep.domain.entities import MethodKind
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR

CALLBACK = "https://app.example.com/mfa/callback"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
_RETURN = re.compile(r'<a href="([^"]+)" id="return">')


@dataclass
class Site:
    key_id: str
    secret: str
    key: str
    alice: builders.Enrolled

    def request(self, app: App, user: str = "alice", **given: str) -> str:
        url = signin.make_request(
            "https://mfa.test",
            key_id=self.key_id,
            secret=self.secret,
            user=user,
            redirect_uri=given.get("redirect_uri", CALLBACK),
            state=given.get("state", "s-1"),
            now=app.deps.clock.now(),
        )
        return url.removeprefix("https://mfa.test")


@pytest.fixture
def browser(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app), base_url="https://mfa.test", follow_redirects=False) as client:
        yield client


@pytest.fixture
def site(app: App) -> Site:
    integration, key = builders.integration(app, "intranet")
    app.hosted_signin.set_return_urls(OPERATOR, "default", "intranet", [CALLBACK])
    _config, secret = app.hosted_signin.issue_secret(OPERATOR, "default", "intranet")
    return Site(integration.key_id, secret, key, builders.enrolled_user(app, "alice"))


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


def returned(html: str) -> str:
    found = _RETURN.search(html)
    assert found is not None, "no way back to the application on the page"
    return unescape(found.group(1))


def test_a_code_signs_in_and_the_user_returns_with_a_verified_result(
    app: App, browser: TestClient, site: Site
) -> None:
    path = site.request(app)
    landing = browser.get(path)
    assert "intranet asks Twostep to verify that you are alice." in landing.text
    assert app.audit.query(OPERATOR, "default") == []  # nothing starts on a GET
    started = start(browser, path)
    assert (started.status_code, started.headers["location"]) == (303, "/signin/verify")  # type: ignore[attr-defined]
    page = browser.get("/signin/verify")
    assert 'autocomplete="one-time-code"' in page.text
    wrong = verify(browser, action="code", code="000000")
    assert wrong.status_code == 401 and "That code is not right" in wrong.text  # type: ignore[attr-defined]
    done = verify(browser, action="code", code=site.alice.totp(app.deps.clock.now()))
    assert done.status_code == 200  # type: ignore[attr-defined]
    back = returned(done.text)  # type: ignore[attr-defined]
    assert f'content="0; url={back}"'.replace("&", "&amp;") in done.text  # type: ignore[attr-defined]
    assert back.startswith(CALLBACK + "?result=")
    query = parse_qs(urlsplit(back).query)
    assert query["state"] == ["s-1"]
    result = signin.verify_result(
        query["result"][0],
        key_id=site.key_id,
        secret=site.secret,
        state="s-1",
        now=app.deps.clock.now(),
    )
    assert result.accepted and result.user == "alice" and result.method == "app_code"
    events = app.audit.query(OPERATOR, "default", user="alice")
    assert [(e.result, e.interface, e.integration) for e in events] == [
        ("challenge", "web", "intranet"),  # the code prompt
        ("reject", "web", "intranet"),
        ("accept", "web", "intranet"),
    ]
    # The sign-in is over: its sessions ended, its request spent.
    assert browser.get("/signin/verify").status_code == 200
    assert "took too long" in browser.get("/signin/verify").text
    again = start(browser, path)
    assert again.status_code == 409  # type: ignore[attr-defined]


def test_a_tampered_request_shows_an_error_and_redirects_nowhere(
    app: App, browser: TestClient, site: Site
) -> None:
    path = site.request(app)
    head, body, mac = parse_qs(urlsplit(path).query)["request"][0].split(".")
    forged = f"/signin?request={head}.{body}.{mac[:-3]}AAA"
    page = browser.get(forged)
    assert page.status_code == 422 and "location" not in page.headers
    assert "signin_request_signature" in page.text
    assert app.audit.query(OPERATOR, "default") == []


def test_a_request_to_an_unlisted_url_is_refused_on_the_page(
    app: App, browser: TestClient, site: Site
) -> None:
    page = browser.get(site.request(app, redirect_uri="https://evil.example.com/cb"))
    assert page.status_code == 403 and "location" not in page.headers
    assert "return_url_not_allowed" in page.text and "evil.example.com" not in page.text


def test_a_request_link_starts_one_sign_in(app: App, browser: TestClient, site: Site) -> None:
    path = site.request(app)
    assert start(browser, path).status_code == 303  # type: ignore[attr-defined]
    replayed = start(browser, path)
    assert replayed.status_code == 409  # type: ignore[attr-defined]
    assert "signin_request_replayed" in replayed.text  # type: ignore[attr-defined]


def test_an_unknown_user_goes_back_with_a_reject(app: App, browser: TestClient, site: Site) -> None:
    done = start(browser, site.request(app, user="mallory"))
    assert done.status_code == 200  # type: ignore[attr-defined]
    query = parse_qs(urlsplit(returned(done.text)).query)  # type: ignore[attr-defined]
    result = signin.verify_result(
        query["result"][0],
        key_id=site.key_id,
        secret=site.secret,
        state="s-1",
        now=app.deps.clock.now(),
    )
    assert not result.accepted and result.reason == "invalid_code" and result.user == "mallory"


def test_another_users_session_does_not_continue_a_sign_in(
    app: App, browser: TestClient, site: Site
) -> None:
    """The page's context belongs to the user of the second-factor session it started
    with: bob's context with alice's step is no sign-in at all."""
    builders.enrolled_user(app, "bob")
    start(browser, site.request(app))
    alice_step = browser.cookies.get("twostep_signin")
    browser.cookies.clear()
    start(browser, site.request(app, user="bob", state="s-2"))
    browser.cookies.set("twostep_signin", alice_step, domain="mfa.test", path="/signin")  # type: ignore[arg-type]
    done = verify(browser, action="code", code=site.alice.totp(app.deps.clock.now()))
    assert "took too long" in done.text  # type: ignore[attr-defined]
    assert 'id="return"' not in done.text  # type: ignore[attr-defined]


def test_a_revoked_integration_stops_its_sign_ins(
    app: App, browser: TestClient, site: Site
) -> None:
    start(browser, site.request(app))
    app.admin.revoke_integration(OPERATOR, "default", "intranet")
    done = verify(browser, action="code", code=site.alice.totp(app.deps.clock.now()))
    assert 'id="return"' not in done.text  # type: ignore[attr-defined]


def test_the_page_is_translated(app: App, browser: TestClient, site: Site) -> None:
    page = browser.get(site.request(app), headers={"Accept-Language": "ko"})
    assert "본인인지 확인" in page.text


def test_a_text_message_with_resend_and_a_switch_of_method(
    app: App, browser: TestClient, site: Site, clock: FakeClock
) -> None:
    """alice also has a phone: she picks the text, has it sent again, then switches back to
    her app; the result names the method that decided."""
    app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, phones.MOBILE)
    start(browser, site.request(app))
    picked = verify(browser, action="switch", method="sms")
    assert picked.status_code == 303  # type: ignore[attr-defined]
    page = browser.get("/signin/verify")
    assert "Code by text message" in page.text and "Send a new code" in page.text
    first = phones.outbox(app)[-1]
    clock.advance(30)  # the tenant's resend_interval
    resent = verify(browser, action="resend")
    assert resent.status_code == 303  # type: ignore[attr-defined]
    second = phones.outbox(app)[-1]
    assert second["reference"] == first["reference"] and second["body"] != first["body"]
    stale = re.search(r"\b(\d{6})\b", first["body"])
    assert stale is not None
    refused = verify(browser, action="code", code=stale.group(1))
    assert refused.status_code == 401  # type: ignore[attr-defined]
    verify(browser, action="switch", method="app_code")
    done = verify(browser, action="code", code=site.alice.totp(app.deps.clock.now()))
    query = parse_qs(urlsplit(returned(done.text)).query)  # type: ignore[attr-defined]
    result = signin.verify_result(
        query["result"][0],
        key_id=site.key_id,
        secret=site.secret,
        state="s-1",
        now=app.deps.clock.now(),
    )
    assert result.accepted and result.method == "app_code"


def test_a_push_shows_the_number_and_its_live_status(app: App, browser: TestClient) -> None:
    """carol's default method is a push: the page shows the number to match, its status
    says done once she approves with it on the phone, and she goes back accepted."""
    integration, _key = builders.integration(app, "intranet")
    app.hosted_signin.set_return_urls(OPERATOR, "default", "intranet", [CALLBACK])
    _config, secret = app.hosted_signin.issue_secret(OPERATOR, "default", "intranet")
    builders.user(app, "carol")
    phone = FakeDevice.new().activate(app, "carol")
    path = signin.make_request(
        "https://mfa.test",
        key_id=integration.key_id,
        secret=secret,
        user="carol",
        redirect_uri=CALLBACK,
        state="s-9",
        now=app.deps.clock.now(),
    ).removeprefix("https://mfa.test")
    start(browser, path)
    page = browser.get("/signin/verify")
    number = re.search(r'<p class="number"[^>]*>(\d+)</p>', page.text)
    assert number is not None and 'data-status="/signin/status"' in page.text
    with app.storage.transaction() as tx:
        device = tx.devices.by_id(phone.id)
    assert device is not None
    [pending] = app.push.requests(device)
    signature = phone.answer(pending.transaction_id, "approve", int(number.group(1)), pending.nonce)
    app.push.answer(
        device, pending.transaction_id, "approve", int(number.group(1)), pending.nonce, signature
    )
    assert browser.get("/signin/status").json() == {"done": True}
    done = verify(browser, action="check")
    query = parse_qs(urlsplit(returned(done.text)).query)  # type: ignore[attr-defined]
    result = signin.verify_result(
        query["result"][0],
        key_id=integration.key_id,
        secret=secret,
        state="s-9",
        now=app.deps.clock.now(),
    )
    assert result.accepted and result.user == "carol" and result.method == "app_push"


def test_a_user_locked_out_mid_way_returns_with_a_reject_the_application_can_read(
    app: App, browser: TestClient, site: Site
) -> None:
    start(browser, site.request(app))
    answer = None
    for _ in range(30):  # wrong codes until the lockout ends the sign-in (bounded)
        answer = verify(browser, action="code", code="000000")
        if 'id="return"' in answer.text:  # type: ignore[attr-defined]
            break
    assert answer is not None and 'id="return"' in answer.text  # type: ignore[attr-defined]
    query = parse_qs(urlsplit(returned(answer.text)).query)  # type: ignore[attr-defined]
    result = signin.verify_result(
        query["result"][0],
        key_id=site.key_id,
        secret=site.secret,
        state="s-1",
        now=app.deps.clock.now(),
    )
    assert (result.accepted, result.reason) == (False, "user_locked")
    # Its sessions ended with it: the step is gone.
    assert "took too long" in browser.get("/signin/verify").text


def test_the_language_switch_comes_back_to_the_same_request(
    app: App, browser: TestClient, site: Site
) -> None:
    path = site.request(app)
    landing = browser.get(path)
    switched = browser.post(
        "/signin/switch-language",
        data={"csrf": csrf(landing.text), "language": "ko", "next": path},
    )
    assert f'name="next" value="{path}"'.replace("&", "&amp;") in landing.text
    assert (switched.status_code, switched.headers["location"]) == (303, path)
    again = browser.get(path)
    assert again.status_code == 200 and 'lang="ko"' in again.text
