"""The self-service portal through the ASGI app: sign-in (password, then the second factor;
a user who must register goes to the registration), security info, phones, app passwords,
recent sign-ins with "not me", enrollment links, language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.phones import MOBILE, OTHER_MOBILE, code_of
from tests.unit.interfaces.web.conftest import PASSWORD, csrf
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind, MethodStatus, MfaState, OtpParams
from twostep.factors import otp
from twostep.services.admin import OPERATOR
from twostep.services.enrollment_links import PATH


def post(client: TestClient, page: str, path: str, **form: str) -> Any:
    token = csrf(client.get(page).text)
    return client.post(path, data={"csrf": token, **form})


def password_step(client: TestClient, user: str = "alice", password: str = PASSWORD) -> Any:
    return post(client, "/my/signin", "/my/signin", tenant="default", user=user, password=password)


def code_now(app: App, seed: bytes) -> str:
    return otp.hotp(seed, OtpParams(), otp.time_step(app.deps.clock.now(), 30))


@pytest.fixture
def alice(app: App) -> builders.Enrolled:
    enrolled = builders.enrolled_user(app, "alice")
    app.passwords.set_password(OPERATOR, "default", "alice", PASSWORD)
    return enrolled


@pytest.fixture
def signed_in(app: App, pages: TestClient, alice: builders.Enrolled) -> TestClient:
    first = password_step(pages)
    assert first.headers["location"] == "/my/verify", first.text
    code = alice.totp(app.deps.clock.now())
    done = post(pages, "/my/verify", "/my/verify", action="code", code=code)
    assert done.headers["location"] == "/my", done.text
    return pages


def newcomer(app: App, name: str = "bob", password: str | None = PASSWORD) -> None:
    builders.user(app, name, mfa=MfaState.ENABLED)
    if password is not None:
        app.passwords.set_password(OPERATOR, "default", name, password)


def add_app(client: TestClient, page: str = "/my") -> tuple[str, bytes, Any]:
    shown = post(client, page, "/my/app")
    assert shown.status_code == 200, shown.text
    assert re.search(r'<img id="qr" src="data:image/png;base64,', shown.text)
    secret = re.search(r'<code id="secret">([A-Z2-7]+)</code>', shown.text)
    method_id = re.search(r'name="method_id" value="([0-9a-f]+)"', shown.text)
    assert secret and method_id
    return method_id.group(1), otp.parse_seed(secret.group(1)), shown


class TestSignIn:
    def test_password_then_code_opens_the_security_info(
        self, app: App, signed_in: TestClient
    ) -> None:
        home = signed_in.get("/my")
        assert home.status_code == 200
        assert "Your security info" in home.text and "Code from an authenticator app" in home.text
        events = app.audit.query(OPERATOR, "default", user="alice")
        assert {(e.interface, e.integration) for e in events} == {("web", "portal")}

    def test_a_wrong_password_says_only_that_the_sign_in_failed(
        self, pages: TestClient, alice: builders.Enrolled
    ) -> None:
        wrong = password_step(pages, password="nope")
        unknown = password_step(pages, user="mallory", password="nope")
        assert wrong.status_code == unknown.status_code == 401
        assert "The sign-in failed" in wrong.text and "The sign-in failed" in unknown.text

    def test_without_a_session_every_page_goes_to_the_sign_in(self, pages: TestClient) -> None:
        for path in ("/my", "/my/app-passwords", "/my/signins"):
            assert pages.get(path).headers["location"] in ("/my/signin", "/my")

    def test_a_user_without_two_step_verification_signs_in_with_the_password(
        self, app: App, pages: TestClient
    ) -> None:
        builders.user(app, "carol", mfa=MfaState.DISABLED)
        app.passwords.set_password(OPERATOR, "default", "carol", PASSWORD)
        assert password_step(pages, "carol").headers["location"] == "/my"
        assert "Your security info" in pages.get("/my").text

    def test_sign_out_ends_the_session(self, signed_in: TestClient) -> None:
        assert post(signed_in, "/my", "/my/signout").headers["location"] == "/my/signin"
        assert signed_in.get("/my").headers["location"] == "/my/signin"


class TestRegistration:
    def test_a_new_user_registers_an_app_after_the_password(
        self, app: App, pages: TestClient
    ) -> None:
        newcomer(app)
        assert password_step(pages, "bob").headers["location"] == "/my"
        page = pages.get("/my")
        assert "Register a method" in page.text
        # A registration session reaches nothing else.
        assert pages.get("/my/app-passwords").headers["location"] == "/my"
        before = pages.cookies.get("twostep_my")
        method_id, seed, _shown = add_app(pages)
        done = post(pages, "/my", "/my/app/confirm", method_id=method_id, code=code_now(app, seed))
        assert done.headers["location"] == "/my?done=app"
        assert pages.cookies.get("twostep_my") != before  # a new, signed-in session
        home = pages.get("/my?done=app")
        assert "Your authenticator app is ready." in home.text
        assert "Your security info" in home.text
        [method] = app.enroll.list(OPERATOR, "default", "bob")
        assert method.status is MethodStatus.ACTIVE

    def test_a_wrong_code_keeps_the_form_without_the_qr_code(
        self, app: App, pages: TestClient
    ) -> None:
        newcomer(app)
        password_step(pages, "bob")
        method_id, _seed, _shown = add_app(pages)
        wrong = post(pages, "/my", "/my/app/confirm", method_id=method_id, code="000000")
        assert wrong.status_code == 422 and "That code is not right" in wrong.text
        assert "data:image/png" not in wrong.text

    def test_without_password_registration_the_user_needs_a_link(
        self, app: App, pages: TestClient
    ) -> None:
        newcomer(app)
        app.admin.update_settings(OPERATOR, "default", {"password_registration": False})
        refused = password_step(pages, "bob")
        assert refused.status_code == 403 and "enrollment link" in refused.text
        assert pages.get("/my").headers["location"] == "/my/signin"

    def test_the_enrollment_link_opens_the_registration_once(
        self, app: App, pages: TestClient
    ) -> None:
        newcomer(app, password=None)
        url = app.enrollment_links.create(OPERATOR, "default", "bob").url
        landing = PATH + url.split(PATH, 1)[1]
        page = pages.get(landing)
        assert page.status_code == 200 and "bob" in page.text
        assert 'type="password"' not in page.text  # bob has no password: the link alone
        assert pages.get(landing).status_code == 200  # looking spends nothing
        assert post(pages, landing, landing).headers["location"] == "/my"
        assert "Register a method" in pages.get("/my").text
        again = pages.get(landing)
        assert again.status_code == 404 and "does not work" in again.text

    def test_a_link_asks_for_the_password_of_a_user_who_has_one(
        self, app: App, pages: TestClient
    ) -> None:
        newcomer(app)
        url = app.enrollment_links.create(OPERATOR, "default", "bob").url
        landing = PATH + url.split(PATH, 1)[1]
        assert 'type="password"' in pages.get(landing).text
        wrong = post(pages, landing, landing, password="nope")
        assert wrong.status_code == 401
        assert post(pages, landing, landing, password=PASSWORD).headers["location"] == "/my"


class TestManaging:
    def test_a_phone_changes_when_the_code_sent_to_it_comes_back(
        self, app: App, signed_in: TestClient
    ) -> None:
        old = app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, MOBILE)
        page = post(signed_in, "/my", "/my/phone", kind="sms", phone=OTHER_MOBILE, replaces=old.id)
        assert page.status_code == 200 and "Code sent to your phone" in page.text
        hidden = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
        code = code_of(app, hidden["transaction_id"])
        form = {k: hidden[k] for k in ("method_id", "transaction_id", "kind", "replaces")}
        done = post(signed_in, "/my", "/my/phone/confirm", action="confirm", code=code, **form)
        assert done.headers["location"] == "/my?done=phone"
        phones = [m.phone for m in app.enroll.list(OPERATOR, "default", "alice") if m.phone]
        assert phones == [OTHER_MOBILE]

    def test_app_passwords_are_shown_once_and_deleted(
        self, app: App, signed_in: TestClient
    ) -> None:
        app.admin.update_settings(OPERATOR, "default", {"app_passwords_allowed": True})
        made = post(signed_in, "/my/app-passwords", "/my/app-passwords", name="Mail")
        assert made.status_code == 201
        shown = re.search(r'<code id="app-password">([a-z2-7-]+)</code>', made.text)
        assert shown is not None
        listed = signed_in.get("/my/app-passwords")
        assert "Mail" in listed.text and shown.group(1) not in listed.text
        [found] = app.app_passwords.list(OPERATOR, "default", "alice")
        gone = post(
            signed_in, "/my/app-passwords", "/my/app-passwords/delete", app_password_id=found.id
        )
        assert gone.headers["location"] == "/my/app-passwords?done=deleted_password"
        assert app.app_passwords.list(OPERATOR, "default", "alice") == []

    def test_a_sign_in_is_reported_as_not_me(self, app: App, signed_in: TestClient) -> None:
        page = signed_in.get("/my/signins")
        [first, *_] = re.findall(r'name="event_id" value="([^"]+)"', page.text)
        done = post(signed_in, "/my/signins", "/my/signins/report", event_id=first)
        assert done.headers["location"] == "/my/signins?done=reported"
        after = signed_in.get("/my/signins?done=reported")
        assert "Reported" in after.text and "your administrator was told" in after.text.lower()
        trail = app.admin_events.query(OPERATOR, "default", action="signin.report")
        assert [e.target for e in trail] == [f"alice/{first}"]

    def test_the_language_setting_turns_the_pages_korean(
        self, app: App, signed_in: TestClient
    ) -> None:
        assert post(signed_in, "/my", "/my/language", language="ko").status_code == 303
        assert app.admin.get_user(OPERATOR, "default", "alice").language == "ko"
        assert "로그아웃" in signed_in.get("/my").text

    def test_the_last_method_stays(
        self, app: App, signed_in: TestClient, alice: builders.Enrolled
    ) -> None:
        refused = post(signed_in, "/my", "/my/delete", method_id=alice.method.id)
        assert refused.status_code == 409 and "last method" in refused.text

    def test_the_mobile_authenticators_qr_code_holds_its_activation(
        self, signed_in: TestClient
    ) -> None:
        page = post(signed_in, "/my", "/my/device")
        assert page.status_code == 200
        assert re.search(r'<img id="qr" src="data:image/png;base64,', page.text)
        code = re.search(r'<code id="activation-code">([^<]+)</code>', page.text)
        assert code is not None and len(code.group(1).replace("-", "")) >= 12
