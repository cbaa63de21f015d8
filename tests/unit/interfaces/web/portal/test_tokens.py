"""The token pool and imports: posting a file starts an import job and leads to its page,
which shows the phase and its progress while it runs, then the result: "N tokens imported",
or every problem by its place with nothing stored. One import runs per tenant; a job whose
worker went quiet shows as interrupted; another tenant's job is not found; the pool is
listed in pages."""

from __future__ import annotations

import json
import re
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support import pskc_files
from tests.support.fakes import FakeClock
from tests.unit.interfaces.web.portal.conftest import SignIn, csrf
from twostep.adapters.importers import read_token_file
from twostep.adapters.storage.tables import token_import_jobs
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.domain.token_imports import CHECKING, READING, ImportProgress
from twostep.interfaces.web.portal.base import PAGE as ROWS
from twostep.services.admin import OPERATOR
from twostep.services.token_import_jobs import ALIVE, Stored
from twostep.services.tokens import ImportSummary

PAGE = "/admin/tenants/default/tokens"
JOB = re.compile(r"^/admin/tenants/default/tokens/imports/([0-9a-f]{32})$")
WAIT = 30.0  # seconds a test waits for a job's thread, at most


def upload(pages: TestClient, data: bytes, name: str = "tokens.pskc", **form: str) -> object:
    token = csrf(pages.get(PAGE).text)
    files = {"file": (name, data, "application/xml")}
    return pages.post(PAGE + "/import", data={"csrf": token, **form}, files=files)


def job_page(pages: TestClient, data: bytes, **form: str) -> str:
    """Upload, follow the 303 to the job's page, and wait (bounded) until it has ended."""
    started = upload(pages, data, **form)
    assert started.status_code == 303, started.text  # type: ignore[attr-defined]
    found = JOB.match(started.headers["location"])  # type: ignore[attr-defined]
    assert found is not None
    return ended(pages, found.group(1))


def ended(pages: TestClient, job_id: str) -> str:
    status = f"{PAGE}/imports/{job_id}/status"
    pause = threading.Event()
    for _ in range(int(WAIT / 0.05)):
        if pages.get(status).json()["state"] != "running":
            return pages.get(f"{PAGE}/imports/{job_id}").text
        pause.wait(0.05)
    raise AssertionError("the import never ended")


class Gate:
    def __init__(self) -> None:
        self.reached, self.opened = threading.Event(), threading.Event()


def held_job(app: App, gate: Gate, serials: list[str]) -> str:
    """A job started as the portal starts one, its work held at key 2 of 3."""

    def work(progress: ImportProgress, stored: Stored) -> ImportSummary:
        for done in (1, 2):
            progress(CHECKING, done, 3)
        gate.reached.set()
        assert gate.opened.wait(WAIT)
        records = read_token_file(pskc_files.encrypted(serials), None, key=pskc_files.KEY)
        return app.tokens.import_records(
            OPERATOR, "default", records.records, progress=progress, stored=stored
        )

    job_id = app.token_imports.start(OPERATOR, "default", "held.pskc", work)
    assert gate.reached.wait(WAIT)
    return job_id


def saved(pages: TestClient, job_id: str, value: int) -> dict[str, object]:
    """The status once the reporter has saved ``value`` (it saves every 0.25 s)."""
    pause = threading.Event()
    for _ in range(int(WAIT / 0.05)):
        state: dict[str, object] = pages.get(f"{PAGE}/imports/{job_id}/status").json()
        if state.get("value") == value:
            return state
        pause.wait(0.05)
    raise AssertionError("the progress was never saved")


def test_a_pskc_file_with_its_key_is_imported_through_its_job_page(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    html = job_page(pages, pskc_files.encrypted(["T-1", "T-2", "T-3"]), key=pskc_files.KEY.hex())
    assert "3 tokens imported." in html and "tokens.pskc" in html
    assert "<progress" not in html and "import_job.js" not in html  # ended: no polling
    assert [t.serial for t in app.tokens.list(OPERATOR, "default")] == ["T-1", "T-2", "T-3"]
    (event,) = app.admin_events.query(OPERATOR, "default", action="token.import")
    assert event.interface == "web"


def test_the_job_page_shows_the_phase_and_its_progress_while_it_runs(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    gate = Gate()
    job_id = held_job(app, gate, ["H-1", "H-2", "H-3"])
    state = saved(pages, job_id, 2)
    assert state == {
        "state": "running",
        "phase": "checking",
        "text": "Checking keys: 2 of 3",
        "value": 2,
        "max": 3,
    }
    html = pages.get(f"{PAGE}/imports/{job_id}").text
    assert '<p id="job-phase" role="status">Checking keys: 2 of 3</p>' in html
    assert 'value="2" max="3"' in html and "/static/import_job.js" in html
    assert '<meta http-equiv="refresh"' in html  # inside <noscript>: without JavaScript
    assert app.tokens.list(OPERATOR, "default") == []
    gate.opened.set()
    assert "3 tokens imported." in ended(pages, job_id)


def test_a_wrong_key_refuses_the_file(app: App, pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.TENANT_ADMIN)
    html = job_page(pages, pskc_files.encrypted(["T-1"]), key="00" * 16)
    assert "The file was refused. Nothing was imported." in html
    assert "wrong key or password" in html
    assert app.tokens.list(OPERATOR, "default") == []


def test_a_bad_key_refuses_the_whole_file_and_is_shown_by_its_place(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    html = job_page(pages, pskc_files.one_bad_key("G-1", "B-2"))
    assert "The file was refused. Nothing was imported." in html
    assert "key bad (serial B-2)" in html and "10 to 128 bytes" in html
    assert app.tokens.list(OPERATOR, "default") == []  # G-1 was fine, and is not in
    assert app.admin_events.query(OPERATOR, "default", action="token.import") == []


def test_the_files_key_is_never_stored_with_its_job(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    key = pskc_files.KEY.hex()
    job_page(pages, pskc_files.encrypted(["T-1"]), key=key)
    job_page(pages, pskc_files.encrypted(["T-2"]), key="ab" * 16)  # refused: the wrong key
    with app.storage.transaction() as tx:
        rows = [dict(r._mapping) for r in tx.conn.execute(select(token_import_jobs))]
    assert len(rows) == 2
    kept = json.dumps(rows, default=str)
    assert key not in kept and "ab" * 16 not in kept


def test_a_job_whose_worker_went_quiet_shows_as_interrupted(
    app: App, pages: TestClient, admin_as: SignIn, clock: FakeClock
) -> None:
    admin_as(Role.TENANT_ADMIN)
    gate = Gate()
    job_id = held_job(app, gate, ["H-1"])
    clock.advance(ALIVE + 1)
    assert pages.get(f"{PAGE}/imports/{job_id}/status").json()["state"] == "interrupted"
    html = pages.get(f"{PAGE}/imports/{job_id}").text
    assert "The import was interrupted" in html and "<progress" not in html
    gate.opened.set()
    assert "The import was interrupted" in ended(pages, job_id)
    assert app.tokens.list(OPERATOR, "default") == []


def test_a_second_upload_while_one_runs_is_refused_clearly(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    gate = Gate()
    job_id = held_job(app, gate, ["H-1"])
    second = upload(pages, pskc_files.encrypted(["T-1"]), key=pskc_files.KEY.hex())
    assert second.status_code == 409  # type: ignore[attr-defined]
    assert "Another token import of this organisation is running" in second.text  # type: ignore[attr-defined]
    gate.opened.set()
    assert "1 tokens imported." in ended(pages, job_id)
    assert [t.serial for t in app.tokens.list(OPERATOR, "default")] == ["H-1"]


def test_another_tenants_job_is_not_found_as_a_missing_one_is(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    done = app.token_imports.start(
        OPERATOR,
        "default",
        "a.pskc",
        lambda progress, stored: app.tokens.import_records(
            OPERATOR, "default", [], progress=progress, stored=stored
        ),
    )
    admin_as(Role.TENANT_ADMIN, name="boss", tenant="acme")
    for path in (
        f"{PAGE}/imports/{done}",
        f"/admin/tenants/acme/tokens/imports/{done}",
        f"/admin/tenants/acme/tokens/imports/{'0' * 32}",
    ):
        assert pages.get(path).status_code == 404, path
    assert pages.get(f"/admin/tenants/acme/tokens/imports/{done}/status").status_code == 404


def test_a_help_desk_has_no_token_pages(app: App, pages: TestClient, admin_as: SignIn) -> None:
    gate = Gate()
    job_id = held_job(app, gate, ["H-1"])
    admin_as(Role.HELP_DESK)
    assert pages.get(PAGE).status_code == 403
    assert pages.get(f"{PAGE}/imports/{job_id}").status_code == 403
    gate.opened.set()
    pause = threading.Event()
    for _ in range(int(WAIT / 0.05)):  # the job ends before the app closes
        if app.token_imports.show(OPERATOR, "default", job_id).state != "running":
            break
        pause.wait(0.05)


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


def test_an_upload_without_the_forms_token_starts_nothing(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    files = {"file": ("tokens.pskc", pskc_files.encrypted(["T-1"]), "application/xml")}
    refused = pages.post(PAGE + "/import", data={"key": pskc_files.KEY.hex()}, files=files)
    assert refused.status_code == 403
    with app.storage.transaction() as tx:
        assert tx.token_imports.running(1) is None
        assert tx.conn.execute(select(token_import_jobs)).first() is None


def test_reading_a_file_shows_the_share_of_it_parsed(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    gate = Gate()

    def work(progress: ImportProgress, stored: Stored) -> ImportSummary:
        progress(READING, 500, 2000)  # bytes of the file parsed, of its size
        gate.reached.set()
        assert gate.opened.wait(WAIT)
        return app.tokens.import_records(OPERATOR, "default", [], progress=progress, stored=stored)

    job_id = app.token_imports.start(OPERATOR, "default", "big.pskc", work)
    assert gate.reached.wait(WAIT)
    state = saved(pages, job_id, 500)
    assert (state["text"], state["max"]) == ("Reading the file: 25% read", 2000)
    gate.opened.set()
    assert "0 tokens imported." in ended(pages, job_id)


@pytest.mark.usefixtures("backend")
def test_a_file_name_with_control_characters_is_kept_visible_not_stored_raw(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    """A NUL (which PostgreSQL's text refuses) or another control character in the file's
    name, sent raw in the form's part header, is stored and shown escaped; the import runs
    as any other."""
    admin_as(Role.TENANT_ADMIN)
    token = csrf(pages.get(PAGE).text)
    boundary = b"----twostep-test"
    body = b"".join(
        [
            b"--%s\r\n" % boundary,
            b'Content-Disposition: form-data; name="csrf"\r\n\r\n%s\r\n' % token.encode(),
            b"--%s\r\n" % boundary,
            b'Content-Disposition: form-data; name="key"\r\n\r\n%s\r\n'
            % pskc_files.KEY.hex().encode(),
            b"--%s\r\n" % boundary,
            b'Content-Disposition: form-data; name="file"; filename="a\x00b\x1b.pskc"\r\n',
            b"Content-Type: application/xml\r\n\r\n",
            pskc_files.encrypted(["T-1"]),
            b"\r\n--%s--\r\n" % boundary,
        ]
    )
    started = pages.post(
        PAGE + "/import",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=" + boundary.decode()},
    )
    assert started.status_code == 303, started.text
    found = JOB.match(started.headers["location"])
    assert found is not None
    html = ended(pages, found.group(1))
    assert "1 token" in html and "imported" in html
    assert "\x00" not in html and "\x1b" not in html
    assert "a\\x00b\\x1b.pskc" in html
