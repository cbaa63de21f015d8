"""The text rule (no control characters) at the pages' addresses: what the HTTP layer
refuses before any page runs (a NUL in the address or its query) answers an HTML error page
in the visitor's language, never the API's JSON; a NUL or a right-to-left override typed in
a form field at /admin, /my and /signin answers a page too. The API keeps its JSON."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.interfaces.web.conftest import csrf
from tests.unit.interfaces.web.test_hosted import Site, browser, site
from twostep.bootstrap import App

__all__ = ["browser", "site"]  # the hosted page's fixtures

NUL, RTL_OVERRIDE = "\x00", "\u202e"
KO = {"Accept-Language": "ko"}


def _html(answer: object) -> str:
    headers = answer.headers  # type: ignore[attr-defined]
    assert headers["content-type"].startswith("text/html"), headers["content-type"]
    text: str = answer.text  # type: ignore[attr-defined]
    assert text.startswith("<!doctype html>") and '"error"' not in text
    return text


@pytest.mark.parametrize("address", ["/admin/signin", "/my/signin", "/signin"])
def test_a_nul_in_the_query_answers_an_error_page_in_the_visitors_language(
    pages: TestClient, address: str
) -> None:
    english = pages.get(f"{address}?tenant=a%00b&request=x")
    assert english.status_code == 422
    assert "holds a control character" in _html(english)
    assert "invalid_request" in english.text  # the error code, shown on the page
    korean = pages.get(f"{address}?tenant=a%00b&request=x", headers=KO)
    assert korean.status_code == 422
    assert 'lang="ko"' in _html(korean) and "제어 문자" in korean.text


def test_a_nul_in_the_path_is_not_echoed_back(pages: TestClient) -> None:
    answer = pages.get("/my/x%00y")
    assert answer.status_code == 422
    assert "\x00" not in _html(answer) and "holds a control character" in answer.text


def test_the_api_keeps_its_json(pages: TestClient) -> None:
    answer = pages.get("/v1/health?x=a%00b")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("typed", [f"al{NUL}ice", f"al{RTL_OVERRIDE}ice"])
@pytest.mark.parametrize("address", ["/admin/signin", "/my/signin"])
def test_a_control_character_in_a_portal_sign_in_field_answers_a_page(
    pages: TestClient, address: str, typed: str
) -> None:
    token = csrf(pages.get(address).text)
    for form in (
        {"tenant": "default", "user": typed, "password": "x"},
        {"tenant": typed, "user": "alice", "password": "x"},
        {"tenant": "default", "user": "alice", "password": typed},
    ):
        answer = pages.post(address, data={"csrf": token, **form}, headers=KO)
        assert answer.status_code in (401, 422), answer.text
        assert 'lang="ko"' in _html(answer)


@pytest.mark.parametrize("typed", [f"a{NUL}b", f"a{RTL_OVERRIDE}b"])
def test_a_control_character_in_the_hosted_pages_field_answers_a_page(
    app: App, browser: TestClient, site: Site, typed: str
) -> None:
    landing = browser.get(site.request(app))
    answer = browser.post(
        "/signin", data={"csrf": csrf(landing.text), "request": typed}, headers=KO
    )
    assert 400 <= answer.status_code < 500
    assert 'lang="ko"' in _html(answer)
