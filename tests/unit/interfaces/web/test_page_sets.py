"""Each page set keeps its own session: one browser may be signed in to the management
portal (``twostep_admin``, ``Path=/admin``) and the self-service portal (``twostep_my``,
``Path=/my``) at once; signing in or out of one leaves the other alone; a session opens only
the page set it was made for, whatever cookie carries it; a form token of one set is refused
by the other's forms."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.unit.interfaces.web.conftest import PASSWORD, csrf, sign_in
from twostep.bootstrap import App
from twostep.interfaces.web import page_sets
from twostep.services.admin import OPERATOR


def _post(client: TestClient, page: str, path: str, **form: str) -> Any:
    token = csrf(client.get(page).text)
    return client.post(path, data={"csrf": token, **form})


def _my_sign_in(
    client: TestClient, app: App, alice: builders.Enrolled, form_on: str = "/my/signin"
) -> None:
    """Password, then the app's next code: signed in at /my (the clock moves on a step, so
    the code is not one the other portal's sign-in already spent). ``form_on``: the page
    whose token the password form sends."""
    app.deps.clock.advance(30)  # type: ignore[attr-defined]
    first = _post(client, form_on, "/my/signin", user="alice", password=PASSWORD)
    assert first.headers["location"] == "/my/verify", first.text
    code = alice.totp(app.deps.clock.now())
    done = _post(client, "/my/verify", "/my/verify", action="code", code=code)
    assert done.headers["location"] == "/my", done.text


@pytest.fixture
def both(app: App, pages: TestClient, alice: builders.Enrolled) -> TestClient:
    """Alice (a tenant admin) signed in to both portals in one browser."""
    sign_in(pages, app, alice)
    _my_sign_in(pages, app, alice)
    return pages


def _signed_in_at(client: TestClient, home: str) -> bool:
    answer = client.get(home)
    if answer.status_code == 303:
        assert answer.headers["location"] == f"{home}/signin"
        return False
    assert answer.status_code == 200, answer.text
    return True


def test_one_browser_is_signed_in_to_both_portals_with_two_cookies(both: TestClient) -> None:
    assert _signed_in_at(both, "/admin") and _signed_in_at(both, "/my")
    admin, my = both.cookies.get("twostep_admin"), both.cookies.get("twostep_my")
    assert admin and my and admin != my


@pytest.mark.parametrize(("out", "still"), [("/my", "/admin"), ("/admin", "/my")])
def test_signing_out_of_one_portal_leaves_the_other_signed_in(
    both: TestClient, out: str, still: str
) -> None:
    other = both.cookies.get(page_sets.find(still).cookie)  # type: ignore[union-attr]
    signed_out = _post(both, out, f"{out}/signout")
    assert signed_out.headers["location"] == f"{out}/signin"
    cleared = signed_out.headers["set-cookie"]
    assert cleared.startswith(f"{page_sets.find(out).cookie}=")  # type: ignore[union-attr]
    assert f"Path={out}" in cleared
    assert not _signed_in_at(both, out)
    assert _signed_in_at(both, still)
    assert both.cookies.get(page_sets.find(still).cookie) == other  # type: ignore[union-attr]


def test_signing_in_to_one_portal_again_leaves_the_other_session(
    app: App, both: TestClient, alice: builders.Enrolled
) -> None:
    admin, my = both.cookies.get("twostep_admin"), both.cookies.get("twostep_my")
    _my_sign_in(both, app, alice, form_on="/my")  # a new /my session; the old /my one ends
    assert both.cookies.get("twostep_admin") == admin
    assert both.cookies.get("twostep_my") != my
    assert _signed_in_at(both, "/admin") and _signed_in_at(both, "/my")


def test_a_self_service_session_under_the_admin_cookie_opens_nothing(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    """Not even the "no admin role" page: the session is not read at /admin at all."""
    _my_sign_in(pages, app, alice)
    mine = pages.cookies.get("twostep_my")
    assert mine
    pages.cookies.set("twostep_admin", mine, domain="mfa.test", path="/admin")
    assert not _signed_in_at(pages, "/admin")
    assert pages.get("/admin/tenants/default/users").headers["location"] == "/admin/signin"
    assert _signed_in_at(pages, "/my")  # still its own portal's session


def test_an_admin_session_under_the_self_service_cookie_opens_nothing(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    sign_in(pages, app, alice)
    admins = pages.cookies.get("twostep_admin")
    assert admins
    pages.cookies.set("twostep_my", admins, domain="mfa.test", path="/my")
    assert not _signed_in_at(pages, "/my")
    assert "Your security info" not in pages.get("/my/signin").text
    assert _signed_in_at(pages, "/admin")


def test_a_sign_in_in_progress_continues_only_at_its_own_page_set(
    pages: TestClient, alice: builders.Enrolled
) -> None:
    """The second-factor session of /admin's sign-in, sent as /my's cookie, is no sign-in
    in progress there."""
    first = _post(pages, "/admin/signin", "/admin/signin", user="alice", password=PASSWORD)
    assert first.headers["location"] == "/admin/signin/verify"
    step = pages.cookies.get("twostep_admin")
    assert step
    pages.cookies.set("twostep_my", step, domain="mfa.test", path="/my")
    assert "took too long" in pages.get("/my/verify").text
    assert "took too long" not in pages.get("/admin/signin/verify").text


def test_the_old_shared_cookie_is_read_by_nothing(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    sign_in(pages, app, alice)
    token = pages.cookies.get("twostep_admin")
    assert token
    pages.cookies.clear()
    pages.cookies.set("twostep_session", token, domain="mfa.test")  # Path=/, as it was
    assert not _signed_in_at(pages, "/admin")
    assert not _signed_in_at(pages, "/my")


def test_a_form_token_of_one_portal_is_refused_by_the_other(both: TestClient) -> None:
    mine = csrf(both.get("/my").text)
    refused = both.post("/admin/signout", data={"csrf": mine})
    assert refused.status_code == 403 and "could not be accepted" in refused.text
    admins = csrf(both.get("/admin").text)
    assert both.post("/my/signout", data={"csrf": admins}).status_code == 403
    assert both.post("/my/switch-language", data={"csrf": admins}).status_code == 403
    assert _signed_in_at(both, "/admin") and _signed_in_at(both, "/my")
    assert both.post("/my/signout", data={"csrf": mine}).status_code == 303  # its own: taken


def test_a_sign_in_form_token_of_one_portal_is_refused_by_the_other(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    """Before sign-in both forms are bound to the one pre-session cookie, and to their
    page set: the /my form's token does not sign in at /admin."""
    mine = csrf(pages.get("/my/signin").text)
    form = {"csrf": mine, "tenant": "default", "user": "alice", "password": PASSWORD}
    refused = pages.post("/admin/signin", data=form)
    assert refused.status_code == 403
    assert app.audit.query(OPERATOR, "default", user="alice") == []  # nothing was tried
    form["csrf"] = csrf(pages.get("/admin/signin").text)
    assert pages.post("/admin/signin", data=form).status_code == 303


def test_revoking_the_users_sessions_ends_both_portals(app: App, both: TestClient) -> None:
    assert app.page_sessions.revoke_user(OPERATOR, "default", "alice") == 2
    assert not _signed_in_at(both, "/admin") and not _signed_in_at(both, "/my")


def test_each_portals_session_ends_after_its_own_idle_time(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    """Using /admin keeps the admin session alive, not the /my one."""
    app.admin.update_settings(OPERATOR, "default", {"page_idle_seconds": 60})
    sign_in(pages, app, alice)
    _my_sign_in(pages, app, alice)
    assert _signed_in_at(pages, "/admin")
    for _ in range(2):
        app.deps.clock.advance(45)  # type: ignore[attr-defined]
        assert _signed_in_at(pages, "/admin")  # used within its idle time
    assert not _signed_in_at(pages, "/my")  # unused for 90 s
