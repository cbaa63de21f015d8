"""The reports page: a date range's charts (sign-ins per day by result and by method, the
refusals' reasons, texts and calls by country) from the usage service, a provider's
statement of a month with its CSV, each role's reach, and bad input as the portal's error
page (4xx, never a 500)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.phones import MOBILE
from tests.support.usage import DAY, Written, write
from tests.unit.interfaces.web.portal.conftest import SignIn
from twostep.bootstrap import App
from twostep.domain.billing import BillingModel
from twostep.domain.entities import MethodKind, Role
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

PAGE = "/admin/tenants/default/reports"


def today(clock: FakeClock) -> dt.date:
    return dt.datetime.fromtimestamp(clock.now(), dt.UTC).date()


def midnight(clock: FakeClock) -> float:
    return clock.now() // DAY * DAY


def table(html: str, chart: str) -> dict[str, list[str]]:
    """The data table of the chart ``chart``: its rows by their first cell."""
    found = re.search(rf'<figure class="chart" id="{chart}">(.*?)</figure>', html, re.S)
    assert found is not None, chart
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", found.group(1), re.S)
    return {label: re.findall(r"<td[^>]*>([^<]*)</td>", cells) for label, cells in rows}


def headers(html: str, chart: str) -> list[str]:
    found = re.search(rf'<figure class="chart" id="{chart}">(.*?)</thead>', html, re.S)
    assert found is not None, chart
    return re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', found.group(1))


def seed(app: App, clock: FakeClock) -> None:
    """Three days of sign-ins in ``default`` (and one in another tenant, not counted)."""
    default = app.admin.ensure_default_tenant()
    other = app.admin.create_tenant(OPERATOR, "acme")
    base = midnight(clock)
    write(
        app.storage,
        [
            Written(default.id, "default", base - 2 * DAY + 10, "accept", "app_code"),
            Written(default.id, "default", base - 2 * DAY + 20, "accept", "sms"),
            Written(
                default.id, "default", base - 2 * DAY + 30, "reject", "app_code", "invalid_code"
            ),
            Written(default.id, "default", base - DAY + 10, "reject", "app_code", "invalid_code"),
            Written(default.id, "default", base - DAY + 20, "reject", None, "user_locked"),
            Written(default.id, "default", base + 10, "accept", "voice"),
            Written(other.id, "acme", base + 10, "accept", "app_code"),
        ],
    )


def test_the_charts_count_each_day_by_result_and_method_and_the_reasons(
    app: App, pages: TestClient, admin_as: SignIn, clock: FakeClock
) -> None:
    seed(app, clock)
    admin_as(Role.TENANT_ADMIN, "boss")  # its own sign-in today: a challenge and an accept
    day = today(clock)
    first = day - dt.timedelta(days=2)
    answer = pages.get(PAGE, params={"from": first.isoformat(), "to": day.isoformat()})
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert 'role="img"' in html and "<svg" in html
    assert headers(html, "by-result") == [
        "Day (UTC)",
        "Accepted",
        "Rejected",
        "Challenged",
        "Total",
    ]
    by_result = table(html, "by-result")
    assert list(by_result) == [
        first.isoformat(),
        (day - dt.timedelta(days=1)).isoformat(),
        day.isoformat(),
    ]
    assert by_result[first.isoformat()] == ["2", "1", "0", "3"]
    assert by_result[(day - dt.timedelta(days=1)).isoformat()] == ["0", "2", "0", "2"]
    assert by_result[day.isoformat()] == ["2", "0", "1", "3"]  # voice, and the admin's code
    by_method = table(html, "by-method")
    cols = headers(html, "by-method")
    assert cols[0] == "Day (UTC)" and cols[-2:] == ["Before a method was chosen", "Total"]
    code = cols.index("Code from an authenticator app") - 1
    assert by_method[first.isoformat()][code] == "2"
    assert table(html, "denials") == {"invalid_code": ["2"], "user_locked": ["1"]}


def test_texts_and_calls_are_charted_by_destination_country(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    vpn, _ = builders.integration(app)
    builders.user(app, "ann")
    app.enroll.enroll_phone(OPERATOR, "default", "ann", MethodKind.SMS, MOBILE)
    app.signin.sign_in(SignInRequest(user="ann", integration=vpn, client_ip="::1"))
    admin_as(Role.TENANT_ADMIN, "boss")
    html = pages.get(PAGE).text
    countries = table(html, "countries")
    assert countries["United States (US)"][:1] == ["1"]  # one text sent, none failed
    assert countries["United States (US)"][-2:] == ["0", "1"]
    assert int(table(html, "parts")["United States (US)"][0]) >= 1
    korean = pages.get(PAGE, headers={"Accept-Language": "ko"})
    assert "미국 (US)" in korean.text


def test_a_per_authentication_statement_by_method_with_its_csv(
    app: App, pages: TestClient, admin_as: SignIn, clock: FakeClock
) -> None:
    provider = app.providers.create(OPERATOR, "MSP", BillingModel.PER_AUTHENTICATION, "default")
    seed(app, clock)
    admin_as(Role.TENANT_ADMIN, "boss")
    month = today(clock).strftime("%Y-%m")
    html = pages.get(PAGE, params={"month": month}).text
    api = app.billing.statement(OPERATOR, provider.id, month)
    assert f'<dd id="units">{api.units}</dd>' in html
    # Billed from the provider's creation on: the admin's own sign-in (its code).
    assert api.units == 1 and api.tenants[0].by_method == {"app_code": 1}
    assert table(html, "statement") == {"Code from an authenticator app": ["1"]}
    link = re.search(r'href="([^"]*statement\.csv[^"]*)"', html)
    assert link is not None
    download = pages.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    disposition = f'attachment; filename="statement-{provider.id}-{month}.csv"'
    assert download.headers["content-disposition"] == disposition
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert rows[-1]["units"] == str(api.units) and rows[-1]["provider"] == provider.id


def test_a_per_user_statement_lists_the_billable_users(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    app.providers.create(OPERATOR, "Seats", BillingModel.PER_USER, "default")
    builders.enrolled_user(app, "carol")
    admin_as(Role.GLOBAL_ADMIN, "root")
    html = pages.get(PAGE).text
    assert "Billable users" in html
    assert "<td>default</td><td>carol</td>" in html
    units = re.search(r'<dd id="units">(\d+)</dd>', html)
    assert units is not None and int(units.group(1)) >= 2  # carol and the admin, unlicensed
    assert table(html, "statement") == {"default": [units.group(1)]}


def test_the_help_desk_sees_the_charts_but_no_statement(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    provider = app.providers.create(OPERATOR, "MSP", BillingModel.PER_USER, "default")
    admin_as(Role.HELP_DESK, "desk")
    html = pages.get("/admin").text
    assert f'href="{PAGE}"' in html  # in the menu
    html = pages.get(PAGE).text
    assert 'id="by-result"' in html and "Statement of" not in html and "MSP" not in html
    refused = pages.get(
        f"{PAGE}/statement.csv", params={"provider": provider.id, "month": "2027-01"}
    )
    assert refused.status_code == 403


def test_a_tenant_admin_reaches_no_other_tenants_reports(
    app: App, pages: TestClient, admin_as: SignIn, clock: FakeClock
) -> None:
    seed(app, clock)
    acme = app.providers.create(OPERATOR, "Acme's", BillingModel.PER_USER, "acme")
    admin_as(Role.TENANT_ADMIN, "boss")
    for path in ("/admin/tenants/acme/reports", "/admin/tenants/acme/reports/statement.csv"):
        answer = pages.get(path, params={"provider": acme.id, "month": "2027-01"})
        assert answer.status_code == 403, path
        assert "Acme" not in answer.text
    # Nor through its own tenant's CSV, naming the other's provider.
    mine = pages.get(f"{PAGE}/statement.csv", params={"provider": acme.id, "month": "2027-01"})
    assert mine.status_code == 404 and "Acme" not in mine.text
    # /admin/reports (every tenant) is a global admin's: the others land on their own.
    moved = pages.get("/admin/reports", params={"from": "2027-01-01"})
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{PAGE}?from=2027-01-01"


def test_a_global_admin_sees_every_tenant_together(
    app: App, pages: TestClient, admin_as: SignIn, clock: FakeClock
) -> None:
    seed(app, clock)
    admin_as(Role.GLOBAL_ADMIN, "root")
    html = pages.get("/admin/reports").text
    assert "All organisations" in html
    # Today: the voice accept of default, acme's accept and the admin's own two.
    assert table(html, "by-result")[today(clock).isoformat()] == ["3", "0", "1", "4"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"from": "yesterday"}, "report_range_invalid"),
        ({"from": "2026-02-30"}, "report_range_invalid"),
        ({"from": "2026-02-01junk"}, "report_range_invalid"),
        ({"to": "1969-12-31"}, "report_range_invalid"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "report_range_invalid"),
        ({"from": "2024-01-01", "to": "2025-01-01"}, "report_range_invalid"),  # 367 days
        ({"month": "2026-13"}, "statement_month_invalid"),
        ({"month": "2026-1"}, "statement_month_invalid"),
        ({"month": "2026-011"}, "statement_month_invalid"),
        ({"provider": "nobody"}, "provider_not_found"),
    ],
)
def test_bad_input_is_the_portals_error_page(
    app: App, pages: TestClient, admin_as: SignIn, query: dict[str, str], code: str
) -> None:
    app.providers.create(OPERATOR, "MSP", BillingModel.PER_USER, "default")
    admin_as(Role.TENANT_ADMIN, "boss")
    answer = pages.get(PAGE, params=query)
    assert 400 <= answer.status_code < 500
    assert answer.headers["content-type"].startswith("text/html"), answer.text
    assert f"Error code: {code}" in answer.text


def test_a_year_and_a_leap_day_is_one_range(app: App, pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.TENANT_ADMIN, "boss")
    answer = pages.get(PAGE, params={"from": "2024-01-01", "to": "2024-12-31"})
    assert answer.status_code == 200
    assert len(table(answer.text, "by-result")) == 366


def test_a_control_character_is_refused_before_the_page(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN, "boss")
    answer = pages.get(PAGE, params={"from": "2026-01-01\x00"})
    assert answer.status_code == 422  # the text rule of every address (http/params.py)
    assert "invalid_request" in answer.text
