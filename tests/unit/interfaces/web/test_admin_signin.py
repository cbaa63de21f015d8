"""The management portal's sign-in: the primary password, then a second factor through the
one sign-in service; a role grant opens /admin; no user enumeration; failures lock out."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.unit.interfaces.web.conftest import PASSWORD, csrf, password_step, sign_in, verify
from twostep.bootstrap import App
from twostep.domain.entities import OtpParams, OtpType, Role
from twostep.services.admin import OPERATOR


def test_an_admin_signs_in_with_password_and_authenticator_code(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    first = password_step(pages)
    assert (first.status_code, first.headers["location"]) == (303, "/admin/signin/verify")
    page = pages.get("/admin/signin/verify")
    assert 'autocomplete="one-time-code"' in page.text
    done = verify(pages, action="code", code=alice.totp(app.deps.clock.now()))
    assert (done.status_code, done.headers["location"]) == (303, "/admin")
    home = pages.get("/admin")
    assert home.status_code == 200
    assert "Management portal" in home.text and "Tenant administrator" in home.text
    events = app.audit.query(OPERATOR, "default", user="alice")
    assert [(e.result, e.interface, e.integration) for e in events] == [
        ("challenge", "web", "pages"),  # the password was right: the code is asked for
        ("accept", "web", "pages"),
    ]


def test_the_signed_in_session_is_a_new_token(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    password_step(pages)
    before = pages.cookies.get("twostep_admin")
    verify(pages, action="code", code=alice.totp(app.deps.clock.now()))
    after = pages.cookies.get("twostep_admin")
    assert before and after and before != after
    pages.cookies.set("twostep_admin", before, domain="mfa.test", path="/admin")
    assert pages.get("/admin").status_code == 303  # the second-factor session has ended


def test_a_wrong_code_is_refused_and_counts_toward_lockout(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    password_step(pages)
    wrong = verify(pages, action="code", code="000000")
    assert wrong.status_code == 401
    assert "That code is not right" in wrong.text
    assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 1
    right = verify(pages, action="code", code=alice.totp(app.deps.clock.now()))
    assert right.headers["location"] == "/admin"


def _without_token(html: str) -> str:
    return html.replace(csrf(html), "")


def test_an_unknown_user_is_answered_like_a_wrong_password(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    wrong = password_step(pages, password="not the password")
    unknown = password_step(pages, user="mallory", password="not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert _without_token(wrong.text) == _without_token(unknown.text)
    assert "The sign-in failed" in wrong.text
    assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 1
    assert "twostep_admin" not in wrong.headers.get("set-cookie", "")


def test_an_unknown_tenant_is_answered_like_a_wrong_password(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    wrong = password_step(pages, password="not the password")
    nowhere = password_step(pages, tenant="nowhere")
    assert wrong.status_code == nowhere.status_code == 401
    assert _without_token(wrong.text) == _without_token(nowhere.text)


def test_a_locked_user_is_answered_like_a_wrong_password(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    app.admin.update_settings(OPERATOR, "default", {"max_failures": 2})
    for _ in range(2):
        password_step(pages, password="not the password")
    locked = password_step(pages)  # the right password, but locked
    unknown = password_step(pages, user="mallory")
    assert locked.status_code == 401
    assert _without_token(locked.text) == _without_token(unknown.text)
    reasons = [e.reason for e in app.audit.query(OPERATOR, "default", user="alice")]
    assert reasons[-1] == "user_locked"


def test_a_user_without_a_grant_is_refused_after_the_second_factor(
    app: App, pages: TestClient
) -> None:
    bob = builders.enrolled_user(app, "bob")
    app.passwords.set_password(OPERATOR, "default", "bob", PASSWORD)
    password_step(pages, user="bob")
    refused = verify(pages, action="code", code=bob.totp(app.deps.clock.now()))
    assert refused.status_code == 403
    assert "no administrator role" in refused.text
    assert pages.get("/admin").headers["location"] == "/admin/signin"


def test_an_admin_api_key_never_opens_a_page(app: App, pages: TestClient) -> None:
    key = app.admin.bootstrap_admin_key()
    answer = pages.get("/admin", headers={"Authorization": f"Bearer {key}"})
    assert (answer.status_code, answer.headers["location"]) == (303, "/admin/signin")


def test_switching_to_another_method_closes_the_prompt(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    token = builders.token(app, "alice", params=OtpParams(type=OtpType.HOTP))
    password_step(pages)
    page = pages.get("/admin/signin/verify").text
    assert 'value="oath_token"' in page
    switched = verify(pages, action="switch", method="oath_token")
    assert switched.status_code == 303
    assert "Code from a hardware token" in pages.get("/admin/signin/verify").text
    done = verify(pages, action="code", code=token.hotp(0))
    assert done.headers["location"] == "/admin"
    events = app.audit.query(OPERATOR, "default", user="alice")
    assert [(e.result, e.method) for e in events][-2:] == [
        ("challenge", "oath_token"),
        ("accept", "oath_token"),
    ]


def test_a_method_not_of_the_user_cannot_be_switched_to(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    password_step(pages)
    refused = verify(pages, action="switch", method="voice")
    assert refused.status_code == 422


def test_the_second_factor_page_without_a_password_step_sends_back_to_sign_in(
    pages: TestClient,
) -> None:
    page = pages.get("/admin/signin/verify")
    assert "Your sign-in took too long" in page.text


@pytest.mark.parametrize("role", [Role.GLOBAL_ADMIN, Role.HELP_DESK])
def test_the_widest_grant_is_the_sessions_role(app: App, pages: TestClient, role: Role) -> None:
    carol = builders.enrolled_user(app, "carol")
    app.passwords.set_password(OPERATOR, "default", "carol", PASSWORD)
    app.admin_grants.grant(OPERATOR, "default", "carol", Role.HELP_DESK)
    if role is Role.GLOBAL_ADMIN:
        app.admin_grants.grant(OPERATOR, "default", "carol", Role.GLOBAL_ADMIN)
    sign_in_as(pages, app, carol)
    shown = {Role.GLOBAL_ADMIN: "Global administrator", Role.HELP_DESK: "Help desk"}[role]
    assert shown in pages.get("/admin").text


def sign_in_as(pages: TestClient, app: App, enrolled: builders.Enrolled) -> None:
    password_step(pages, user=enrolled.user)
    done = verify(pages, action="code", code=enrolled.totp(app.deps.clock.now()))
    assert done.headers["location"] == "/admin"


def test_sign_out_ends_the_session(app: App, pages: TestClient, alice: builders.Enrolled) -> None:
    sign_in(pages, app, alice)
    token = csrf(pages.get("/admin").text)
    out = pages.post("/admin/signout", data={"csrf": token})
    assert (out.status_code, out.headers["location"]) == (303, "/admin/signin")
    assert pages.get("/admin").status_code == 303
