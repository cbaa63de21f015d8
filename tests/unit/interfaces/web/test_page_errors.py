"""An error at a page's address answers a page in the visitor's language; the API's
addresses keep their one JSON error body."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from twostep.interfaces.web.page_errors import is_page


@pytest.mark.parametrize("path", ["/admin/no-such-page", "/my/no/such/page", "/signin/nothing"])
def test_an_unknown_page_answers_a_page_not_json(pages: TestClient, path: str) -> None:
    answer = pages.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "There is no page at this address." in answer.text
    assert "default-src 'none'" in answer.headers["content-security-policy"]


def test_the_page_is_in_the_visitors_language(pages: TestClient) -> None:
    answer = pages.get("/my/no-such-page", headers={"Accept-Language": "ko"})
    assert answer.status_code == 404 and "이 주소에는 페이지가 없습니다." in answer.text


def test_a_method_a_page_does_not_take_answers_a_page_with_allow(pages: TestClient) -> None:
    answer = pages.put("/admin/signin")
    assert answer.status_code == 405
    assert answer.headers["content-type"].startswith("text/html")
    assert "GET" in answer.headers["allow"]


def test_the_api_keeps_its_json_errors(pages: TestClient) -> None:
    answer = pages.get("/v1/no-such-thing")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_only_the_pages_addresses_are_pages() -> None:
    assert is_page("/admin") and is_page("/my/security") and is_page("/signin")
    assert not is_page("/mystery") and not is_page("/administrator") and not is_page("/v1/x")
