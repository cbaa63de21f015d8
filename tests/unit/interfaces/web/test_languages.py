"""The language of a page: a signed-in user's own setting, else the switch's cookie, else
the browser's Accept-Language, else English."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.unit.interfaces.web.conftest import csrf, sign_in
from twostep.bootstrap import App
from twostep.interfaces.web import i18n
from twostep.services.admin import OPERATOR, UserChanges


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("ko", "ko"),
        ("ko-KR,ko;q=0.9,en;q=0.5", "ko"),
        ("en-US,en;q=0.9,ko;q=0.8", "en"),
        ("fr, ko;q=0.3", "ko"),
        ("ko;q=0.2, en;q=0.8", "en"),
        ("ko;q=0", "en"),
        ("de, fr", "en"),
        ("", "en"),
        (None, "en"),
        ("ko;q=bogus, *", "en"),
    ],
)
def test_accept_language_is_negotiated(header: str | None, chosen: str) -> None:
    assert i18n.choose(None, None, header) == chosen


def test_the_cookie_outranks_the_header_and_the_users_setting_both() -> None:
    assert i18n.choose(None, "en", "ko") == "en"
    assert i18n.choose("ko", "en", "en") == "ko"
    assert i18n.choose("xx", "zz", "ko") == "ko"  # unsupported values fall through


def test_korean_appears_with_accept_language_ko(pages: TestClient) -> None:
    page = pages.get("/admin/signin", headers={"Accept-Language": "ko-KR"})
    assert '<html lang="ko">' in page.text
    assert "관리 포털 로그인" in page.text and "비밀번호" in page.text
    english = pages.get("/admin/signin", headers={"Accept-Language": "en"})
    assert "Sign in to the management portal" in english.text


def test_the_language_switch_sets_a_cookie_that_outranks_the_browser(pages: TestClient) -> None:
    token = csrf(pages.get("/admin/signin").text)
    switched = pages.post(
        "/admin/switch-language", data={"csrf": token, "language": "ko", "next": "/admin/signin"}
    )
    assert (switched.status_code, switched.headers["location"]) == (303, "/admin/signin")
    page = pages.get("/admin/signin", headers={"Accept-Language": "en"})
    assert '<html lang="ko">' in page.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil", "/my", "/administrator"]
)
def test_the_language_switch_goes_back_only_to_its_own_page_set(
    pages: TestClient, target: str
) -> None:
    token = csrf(pages.get("/admin/signin").text)
    form = {"csrf": token, "language": "en", "next": target}
    switched = pages.post("/admin/switch-language", data=form)
    assert switched.headers["location"] == "/admin"


def test_a_signed_in_users_language_outranks_the_cookie(
    app: App, pages: TestClient, alice: builders.Enrolled
) -> None:
    app.admin.update_user(OPERATOR, "default", "alice", UserChanges(language="ko"))
    sign_in(pages, app, alice)
    pages.cookies.set("twostep_lang", "en", domain="mfa.test")
    page = pages.get("/admin", headers={"Accept-Language": "en"})
    assert '<html lang="ko">' in page.text and "관리 포털" in page.text
