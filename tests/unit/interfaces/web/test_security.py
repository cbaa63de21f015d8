"""Every page: its security headers and cookie flags; every form post: its CSRF token and
origin; every session: its idle and absolute expiry, and revocation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.unit.interfaces.web.conftest import csrf, password_step, sign_in
from twostep.bootstrap import App
from twostep.services.admin import OPERATOR

HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _check_headers(answer: object) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    for name, value in HEADERS.items():
        assert headers[name] == value, name
    assert "no-store" in headers["cache-control"] or "no-cache" in headers["cache-control"]


def test_every_page_carries_the_security_headers(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    answers = [pages.get("/admin/signin"), pages.get("/admin"), pages.get("/static/site.css")]
    answers.append(password_step(pages))
    answers.append(pages.get("/admin/signin/verify"))
    sign_in(pages, app, alice)
    answers.append(pages.get("/admin"))
    for answer in answers:
        _check_headers(answer)
    assert answers[0].headers["cache-control"] == "no-store"


def _flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_cookies_are_secure_httponly_strict_and_the_session_only_for_its_pages(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    first = pages.get("/admin/signin").headers["set-cookie"]
    assert first.startswith("twostep_pre=")
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= _flags(first), first
    session = password_step(pages).headers["set-cookie"]  # type: ignore[attr-defined]
    assert session.startswith("twostep_admin=")
    assert {"secure", "httponly", "samesite=strict", "path=/admin"} <= _flags(session), session


def test_the_session_cookie_holds_a_token_the_database_does_not(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    sign_in(pages, app, alice)
    token = pages.cookies["twostep_admin"]
    with app.storage.transaction() as tx:
        rows = tx.conn.exec_driver_sql("SELECT id FROM page_sessions").scalars().all()
    assert token not in rows and all(len(r) == 64 for r in rows)


@pytest.mark.parametrize("token", [None, "", "0" * 72, "not hex"])
def test_a_post_without_its_token_or_with_a_wrong_one_is_refused(
    app: App, pages: TestClient, alice: builders.Enrolled, token: str | None
) -> None:
    pages.get("/admin/signin")  # the pre-session cookie is set: only the token is wrong
    form = {"tenant": "default", "user": "alice", "password": "x"}
    if token is not None:
        form["csrf"] = token
    refused = pages.post("/admin/signin", data=form)
    assert refused.status_code == 403
    assert "could not be accepted" in refused.text
    assert app.audit.query(OPERATOR, "default", user="alice") == []  # nothing was tried


def test_a_token_of_another_browser_is_refused(app: App, pages: TestClient) -> None:
    theirs = csrf(pages.get("/admin/signin").text)
    pages.cookies.clear()
    pages.get("/admin/signin")  # a fresh pre-session cookie
    refused = pages.post("/admin/signin", data={"csrf": theirs, "user": "alice"})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_a_cross_site_post_is_refused_even_with_the_right_token(
    app: App, pages: TestClient, alice: builders.Enrolled, headers: dict[str, str]
) -> None:
    sign_in(pages, app, alice)
    token = csrf(pages.get("/admin").text)
    refused = pages.post("/admin/signout", data={"csrf": token}, headers=headers)
    assert refused.status_code == 403
    assert pages.get("/admin").status_code == 200  # still signed in


def test_a_same_origin_post_is_accepted(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    sign_in(pages, app, alice)
    token = csrf(pages.get("/admin").text)
    same = {"Origin": "https://mfa.test", "Sec-Fetch-Site": "same-origin"}
    assert pages.post("/admin/signout", data={"csrf": token}, headers=same).status_code == 303


def test_the_session_ends_after_its_idle_time(
    app: App, clock: FakeClock, pages: TestClient, alice: builders.Enrolled
) -> None:
    app.admin.update_settings(OPERATOR, "default", {"page_idle_seconds": 60})
    sign_in(pages, app, alice)
    clock.advance(59)
    assert pages.get("/admin").status_code == 200  # used: the idle time starts again
    clock.advance(59)
    assert pages.get("/admin").status_code == 200
    clock.advance(60)
    ended = pages.get("/admin")
    assert (ended.status_code, ended.headers["location"]) == (303, "/admin/signin")


def test_the_session_ends_at_its_absolute_expiry_however_used(
    app: App, clock: FakeClock, pages: TestClient, alice: builders.Enrolled
) -> None:
    app.admin.update_settings(
        OPERATOR, "default", {"page_idle_seconds": 600, "page_session_seconds": 900}
    )
    sign_in(pages, app, alice)
    for _ in range(2):
        clock.advance(440)
        assert pages.get("/admin").status_code == 200
    clock.advance(30)  # 910 s after sign-in, 30 s after the last use
    assert pages.get("/admin").status_code == 303


def test_an_admin_revokes_a_users_sessions(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    sign_in(pages, app, alice)
    assert app.page_sessions.revoke_user(OPERATOR, "default", "alice") == 1
    assert pages.get("/admin").headers["location"] == "/admin/signin"
    [event] = app.admin_events.query(OPERATOR, "default", action="sessions.revoke")
    assert event.changes == {"sessions_ended": [None, 1]}


def test_revoking_the_grant_ends_the_session(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    sign_in(pages, app, alice)
    [grant] = app.admin_grants.list(OPERATOR)
    app.admin_grants.revoke(OPERATOR, grant.id)
    assert pages.get("/admin").status_code == 303
