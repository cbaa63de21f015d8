"""The token pool and imports: a PSKC file with its key is imported whole ("N tokens
imported"); a file with a bad key is refused whole, its problem shown by key; the pool is
listed in pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import pskc_files
from tests.unit.interfaces.web.portal.conftest import SignIn, csrf
from twostep.adapters.importers import read_token_file
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.interfaces.web.portal.base import PAGE as ROWS
from twostep.services.admin import OPERATOR

PAGE = "/admin/tenants/default/tokens"


def upload(pages: TestClient, data: bytes, **form: str) -> object:
    token = csrf(pages.get(PAGE).text)
    files = {"file": ("tokens.pskc", data, "application/xml")}
    return pages.post(PAGE + "/import", data={"csrf": token, **form}, files=files)


def test_a_pskc_file_with_its_key_is_imported(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    data = pskc_files.encrypted(["T-1", "T-2", "T-3"])
    done = upload(pages, data, key=pskc_files.KEY.hex())
    assert done.status_code == 200, done.text  # type: ignore[attr-defined]
    assert "3 tokens imported." in done.text  # type: ignore[attr-defined]
    assert [t.serial for t in app.tokens.list(OPERATOR, "default")] == ["T-1", "T-2", "T-3"]
    (event,) = app.admin_events.query(OPERATOR, "default", action="token.import")
    assert event.interface == "web"


def test_a_wrong_key_refuses_the_file(app: App, pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.TENANT_ADMIN)
    refused = upload(pages, pskc_files.encrypted(["T-1"]), key="00" * 16)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "wrong key or password" in refused.text  # type: ignore[attr-defined]
    assert app.tokens.list(OPERATOR, "default") == []


def test_a_bad_key_refuses_the_whole_file_and_is_shown_by_its_place(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    refused = upload(pages, pskc_files.one_bad_key("G-1", "B-2"))
    assert refused.status_code == 422  # type: ignore[attr-defined]
    html = refused.text  # type: ignore[attr-defined]
    assert "The file was refused. Nothing was imported." in html
    assert "key bad (serial B-2)" in html and "10 to 128 bytes" in html
    assert app.tokens.list(OPERATOR, "default") == []  # G-1 was fine, and is not in


def test_the_pool_is_listed_in_pages_and_filtered_by_serial(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    serials = [f"P-{n:03d}" for n in range(ROWS + 2)] + ["Q-1"]
    app.tokens.import_records(
        OPERATOR,
        "default",
        read_token_file(pskc_files.encrypted(serials), None, key=pskc_files.KEY).records,
    )
    admin_as(Role.TENANT_ADMIN)
    first = pages.get(PAGE, params={"serial": "P-"}).text
    assert "P-000" in first and f"P-{ROWS - 1:03d}" in first and f"P-{ROWS:03d}" not in first
    assert "Q-1" not in first
    more = pages.get(PAGE, params={"serial": "P-", "after": f"P-{ROWS - 1:03d}"}).text
    assert f"P-{ROWS:03d}" in more and f"P-{ROWS + 1:03d}" in more and "Next page" not in more


def test_a_help_desk_has_no_token_pages(pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.HELP_DESK)
    assert pages.get(PAGE).status_code == 403
