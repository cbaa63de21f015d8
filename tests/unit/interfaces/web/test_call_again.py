"""Call again at the pages: a call being waited for has a "Call again" button on the hosted
sign-in page and at /my, placing the call once more on the same transaction with the
limits of a text's resend (resend_interval, max_sends); too soon or too often, the page
says so and places nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import builders, phones
from tests.support.fakes import FakeClock
from tests.unit.interfaces.web.conftest import PASSWORD
from tests.unit.interfaces.web.my.test_portal import password_step, post
from tests.unit.interfaces.web.test_hosted import Site, browser, site, start, verify
from tests.unit.services.test_call_again import call
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind
from twostep.services.admin import OPERATOR

__all__ = ["browser", "site"]  # the hosted page's fixtures


def _calls(app: App) -> list[dict[str, object]]:
    return [r for r in phones.outbox(app) if r.get("channel") == "voice"]


def test_the_hosted_page_calls_again_within_the_limits(
    app: App, browser: TestClient, site: Site, clock: FakeClock
) -> None:
    app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.VOICE, phones.LANDLINE)
    start(browser, site.request(app))
    assert verify(browser, action="switch", method="voice").status_code == 303  # type: ignore[attr-defined]
    page = browser.get("/signin/verify")
    assert "Call again" in page.text
    first = _calls(app)
    assert len(first) == 1
    too_soon = verify(browser, action="resend")
    assert too_soon.status_code == 409  # type: ignore[attr-defined]
    assert "You cannot be called again yet" in too_soon.text  # type: ignore[attr-defined]
    assert len(_calls(app)) == 1
    for sends in (2, 3):
        clock.advance(30)  # the tenant's resend_interval
        again = verify(browser, action="resend")
        assert again.status_code == 303  # type: ignore[attr-defined]
        assert "Calling you again" in browser.get("/signin/verify").text
        assert len(_calls(app)) == sends
        assert _calls(app)[-1]["reference"] == first[0]["reference"]  # the same transaction
    clock.advance(30)
    over = verify(browser, action="resend")  # max_sends (3) reached
    assert over.status_code == 409  # type: ignore[attr-defined]
    assert len(_calls(app)) == 3
    call(app, str(first[0]["reference"]), "")  # answered on the phone with #
    done = verify(browser, action="check")
    assert 'id="return"' in done.text  # type: ignore[attr-defined]


def test_the_self_service_sign_in_calls_again(
    app: App, pages: TestClient, clock: FakeClock
) -> None:
    builders.user(app, "carol")
    app.passwords.set_password(OPERATOR, "default", "carol", PASSWORD)
    app.enroll.enroll_phone(OPERATOR, "default", "carol", MethodKind.VOICE, phones.LANDLINE)
    first = password_step(pages, "carol")
    assert first.headers["location"] == "/my/verify", first.text
    page = pages.get("/my/verify")
    assert "Call again" in page.text
    clock.advance(30)
    again = post(pages, "/my/verify", "/my/verify", action="resend")
    assert again.status_code == 303
    assert "Calling you again" in pages.get("/my/verify").text
    calls = _calls(app)
    assert len(calls) == 2 and calls[0]["reference"] == calls[1]["reference"]
    call(app, str(calls[0]["reference"]), "")
    done = post(pages, "/my/verify", "/my/verify", action="check")
    assert done.headers["location"] == "/my"


def test_a_text_still_offers_a_new_code_not_a_call(
    app: App, browser: TestClient, site: Site
) -> None:
    app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, phones.MOBILE)
    start(browser, site.request(app))
    verify(browser, action="switch", method="sms")
    page = browser.get("/signin/verify")
    assert "Send a new code" in page.text and "Call again" not in page.text
