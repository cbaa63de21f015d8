"""Remembered browsers at the self-service portal: offered beside the second factor while
the tenant allows it; ticked, the next sign-in of that user in that browser skips the
factor (the password is still asked); /my/browsers lists and forgets them; another user,
the setting turned off, or a forgotten browser are asked for the factor again."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.unit.interfaces.web.conftest import PASSWORD, csrf
from twostep.bootstrap import App
from twostep.services.admin import OPERATOR

OFFER = "Remember this device for 14 days"


def post(client: TestClient, page: str, path: str, **form: str) -> Any:
    token = csrf(client.get(page).text)
    return client.post(path, data={"csrf": token, **form})


def password_step(client: TestClient, user: str = "alice") -> Any:
    return post(client, "/my/signin", "/my/signin", tenant="default", user=user, password=PASSWORD)


def sign_out(client: TestClient) -> None:
    post(client, "/my", "/my/signout")


@pytest.fixture
def alice(app: App) -> builders.Enrolled:
    app.admin.update_settings(OPERATOR, "default", {"remember_device_enabled": True})
    enrolled = builders.enrolled_user(app, "alice")
    app.passwords.set_password(OPERATOR, "default", "alice", PASSWORD)
    return enrolled


def remembered_sign_in(app: App, pages: TestClient, alice: builders.Enrolled) -> None:
    first = password_step(pages)
    assert first.headers["location"] == "/my/verify", first.text
    assert OFFER in pages.get("/my/verify").text
    code = alice.totp(app.deps.clock.now())
    done = post(pages, "/my/verify", "/my/verify", action="code", code=code, remember="1")
    assert done.headers["location"] == "/my", done.text
    cookie = done.headers["set-cookie"]
    assert "twostep_device=" in cookie and "Path=/my" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Secure" in cookie  # the page was served over https
    sign_out(pages)


def test_not_offered_while_the_setting_is_off(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    app.admin.update_settings(OPERATOR, "default", {"remember_device_enabled": False})
    password_step(pages)
    assert OFFER not in pages.get("/my/verify").text


def test_the_next_sign_in_skips_the_factor(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    remembered_sign_in(app, pages, alice)
    again = password_step(pages)
    assert again.headers["location"] == "/my", again.text  # no /my/verify
    (event,) = app.audit.query(OPERATOR, "default", user="alice", limit=1, newest_first=True)
    assert (event.result, event.reason, event.method) == ("accept", "remembered_device", None)


def test_the_password_is_still_checked(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    remembered_sign_in(app, pages, alice)
    wrong = post(
        pages, "/my/signin", "/my/signin", tenant="default", user="alice", password="x" * 9
    )
    assert wrong.status_code == 401


def test_never_for_another_user(app: App, pages: TestClient, alice: builders.Enrolled) -> None:
    remembered_sign_in(app, pages, alice)
    builders.enrolled_user(app, "bob")
    app.passwords.set_password(OPERATOR, "default", "bob", PASSWORD)
    assert password_step(pages, "bob").headers["location"] == "/my/verify"


def test_forgotten_at_my_browsers(
    app: App, pages: TestClient, alice: builders.Enrolled, clock: FakeClock
) -> None:
    remembered_sign_in(app, pages, alice)
    assert password_step(pages).headers["location"] == "/my"
    listed = pages.get("/my/browsers").text
    assert "This portal" in listed and "testclient" in listed  # the User-Agent
    done = post(pages, "/my/browsers", "/my/browsers/forget")
    assert done.headers["location"] == "/my/browsers?done=forgotten"
    sign_out(pages)
    assert password_step(pages).headers["location"] == "/my/verify"


def test_expired_after_remember_device_days(
    app: App, pages: TestClient, alice: builders.Enrolled, clock: FakeClock
) -> None:
    remembered_sign_in(app, pages, alice)
    clock.advance(14 * 24 * 3600)
    assert password_step(pages).headers["location"] == "/my/verify"
