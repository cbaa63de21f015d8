"""The sign-in audit and the admin trail: filters, pages, and the CSV download (the existing
writers: a cell a spreadsheet would run as a formula is quoted)."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.support import builders
from tests.unit.interfaces.web.portal.conftest import SignIn
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR

PAGE = "/admin/tenants/default/audit"


def test_the_sign_in_audit_filters_by_user_and_result(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.enrolled_user(app, "alice")
    admin_as(Role.HELP_DESK)  # its own sign-in: a challenge and an accept for "root"
    everything = pages.get(PAGE).text
    assert "root" in everything and "Accepted" in everything
    mine = pages.get(PAGE, params={"user": "root", "result": "accept"}).text
    assert mine.count("<td>root</td>") == 1
    none = pages.get(PAGE, params={"user": "alice"}).text
    assert "No event matches." in none
    bad = pages.get(PAGE, params={"result": "maybe"})
    assert bad.status_code == 422


def test_the_time_range_filters(pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.HELP_DESK)
    before = pages.get(PAGE, params={"until": "2000-01-01T00:00"}).text
    assert "No event matches." in before
    bad = pages.get(PAGE, params={"since": "yesterday"})
    assert bad.status_code == 422


def test_the_csv_has_the_filtered_events_with_formulas_quoted(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    builders.user(app, "=cmd")
    app.accounts.disable(OPERATOR, "default", "=cmd")
    admin_as(Role.TENANT_ADMIN)
    signins = pages.get(PAGE + ".csv", params={"user": "root"})
    assert signins.headers["content-type"].startswith("text/csv")
    assert "attachment" in signins.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(signins.text)))
    assert {r["user"] for r in rows} == {"root"} and len(rows) == 2
    trail = pages.get("/admin/tenants/default/admin-audit.csv", params={"action": "user.disable"})
    (row,) = list(csv.DictReader(io.StringIO(trail.text)))
    assert row["target"] == "'=cmd"


def test_the_admin_trail_pages(app: App, pages: TestClient, admin_as: SignIn) -> None:
    for n in range(55):
        builders.user(app, f"u{n:02d}")
    admin_as(Role.TENANT_ADMIN)
    first = pages.get("/admin/tenants/default/admin-audit", params={"action": "user.create"})
    assert "u00" in first.text and "u49" in first.text and "u50" not in first.text
    link = first.text.split('<a href="/admin/tenants/default/admin-audit?')[1].split('"')[0]
    second = pages.get("/admin/tenants/default/admin-audit?" + link.replace("&amp;", "&"))
    assert "u50" in second.text and "u54" in second.text and "u49" not in second.text
