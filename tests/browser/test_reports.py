"""The management portal's reports page in a real Chromium: the charts drawn on the server
as SVG for sign-ins seeded over several days and methods (their bars, their labels, and
the figures of their data tables), the month's statement, axe-core in English and Korean
(with the page's screenshots: tests/browser/portal.py), and a tenant admin kept out of
another tenant's reports."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.harness import Site, check_accessibility, ok
from tests.browser.portal import screenshot, sign_in

pytestmark = pytest.mark.slow
DAY = 86400
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Seeded:
    tenant: str
    first: dt.date
    last: dt.date
    by_result: Counter[tuple[str, str]]  # (day, result) -> sign-ins
    reasons: Counter[str]
    billed: int  # today's completed verifications, after the provider's creation


def seed(site: Site) -> Seeded:
    """A new tenant with a per-authentication provider, sign-ins on four UTC days (three
    past, and today's after the provider was made) and texts and calls to two countries,
    written into the server's store as the sign-ins and deliveries would have."""
    tenant = f"reports-{secrets.token_hex(3)}"
    with site.api() as api:
        ok(api.post("/v1/tenants", json={"name": tenant}))
        body = {"name": f"MSP {tenant}", "billing_model": "per_authentication", "tenant": tenant}
        ok(api.post("/v1/providers", json=body))
    now = time.time() + 1
    today = int(now // DAY)
    # (days before today, result, method, reason, how many)
    plan = [
        (3, "accept", "app_code", None, 4),
        (3, "reject", "app_code", "invalid_code", 2),
        (2, "accept", "sms", None, 3),
        (2, "challenge", "sms", None, 3),
        (2, "reject", None, "user_locked", 1),
        (1, "accept", "voice", None, 2),
        (1, "reject", "voice", "call_not_answered", 1),
        (0, "accept", "app_code", None, 5),
    ]
    db = sqlite3.connect(site.home / "twostep.db")
    by_result: Counter[tuple[str, str]] = Counter()
    reasons: Counter[str] = Counter()
    (tenant_id,) = db.execute("SELECT id FROM tenants WHERE name = ?", (tenant,)).fetchone()
    try:
        with db:
            for back, result, method, reason, count in plan:
                at = now if back == 0 else (today - back) * DAY + 3600
                day = EPOCH + dt.timedelta(days=int(at // DAY))
                by_result[(day.isoformat(), result)] += count
                if reason and result == "reject":
                    reasons[reason] += count
                for i in range(count):
                    db.execute(
                        "INSERT INTO audit_events (event_id, tenant_id, tenant, at, user_name,"
                        " method, result, reason, integration, interface, server_name)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'vpn', 'http', 'browser-test')",
                        (
                            str(uuid.uuid4()),
                            tenant_id,
                            tenant,
                            at + i,
                            f"u{i}",
                            method,
                            result,
                            reason,
                        ),
                    )
            for back, kind, country, sent, failed, parts in (
                (2, "sms", "KR", 5, 1, 7),
                (1, "voice", "US", 2, 0, 0),
            ):
                db.execute(
                    "INSERT INTO delivery_rollups (tenant_id, day, kind, country, sent, failed,"
                    " segments) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (tenant_id, today - back, kind, country, sent, failed, parts),
                )
    finally:
        db.close()
    last = EPOCH + dt.timedelta(days=today)
    return Seeded(tenant, last - dt.timedelta(days=3), last, by_result, reasons, 5)


def figures(page: Page, chart: str) -> dict[str, list[str]]:
    """The chart's data table, opened as a reader would: its rows by their header cell."""
    figure = page.locator(f"figure#{chart}")
    figure.locator("summary").click()
    rows: dict[str, list[str]] = {}
    for row in figure.locator("tbody tr").all():
        header = row.locator("th")
        if header.count():
            rows[header.inner_text().strip()] = [
                c.strip() for c in row.locator("td").all_inner_texts()
            ]
    return rows


def svg_texts(chart: Locator) -> list[str]:
    return [t.strip() for t in chart.locator("svg text").all_text_contents()]


@pytest.fixture(scope="module")
def seeded(site: Site) -> Seeded:
    return seed(site)


def test_the_charts_show_the_seeded_sign_ins_and_the_statement(
    page: Page, site: Site, seeded: Seeded
) -> None:
    admin = site.new_user("global_admin")
    sign_in(page, site, admin)
    page.goto(f"{site.url}/admin/tenants/{seeded.tenant}")
    page.get_by_role("link", name="Reports").click()
    page.get_by_label("From (UTC day)").fill(seeded.first.isoformat())
    page.get_by_label("Until (UTC day, included)").fill(seeded.last.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Sign-ins per day by result")).to_be_visible()

    by_result = page.locator("figure#by-result")
    expect(by_result.get_by_role("img", name="Sign-ins per day by result")).to_be_visible()
    # One bar segment per (day, result) with sign-ins, each titled with its count.
    expect(by_result.locator("svg rect.bar")).to_have_count(len(seeded.by_result))
    tips = by_result.locator("svg rect.bar title").all_text_contents()
    day = (seeded.last - dt.timedelta(days=2)).isoformat()
    assert f"{day}, Challenged: 3" in tips
    assert {"Accepted", "Rejected", "Challenged"} <= set(svg_texts(by_result))  # the legend
    table = figures(page, "by-result")
    assert list(table) == [(seeded.first + dt.timedelta(days=i)).isoformat() for i in range(4)]
    for day_text, cells in table.items():
        accepted, rejected, challenged, total = (int(c) for c in cells)
        assert accepted == seeded.by_result[(day_text, "accept")]
        assert rejected == seeded.by_result[(day_text, "reject")]
        assert challenged == seeded.by_result[(day_text, "challenge")]
        assert total == accepted + rejected + challenged

    by_method = figures(page, "by-method")
    methods = page.locator("figure#by-method thead th").all_inner_texts()
    assert "Code by text message" in methods and "Phone call" in methods
    assert "Before a method was chosen" in methods  # the locked user's refusal
    assert sum(int(cells[-1]) for cells in by_method.values()) == sum(seeded.by_result.values())

    assert figures(page, "denials") == {r: [str(n)] for r, n in seeded.reasons.items()}
    denials = page.locator("figure#denials")
    assert "invalid_code" in svg_texts(denials) and "2" in svg_texts(denials)

    countries = figures(page, "countries")
    assert countries["South Korea (KR)"] == ["5", "0", "1", "6"]  # texts, calls, failed, total
    assert countries["United States (US)"] == ["0", "2", "0", "2"]
    assert figures(page, "parts") == {"South Korea (KR)": ["7"]}

    expect(page.locator("#units")).to_have_text(str(seeded.billed))
    assert figures(page, "statement") == {"Code from an authenticator app": [str(seeded.billed)]}
    check_accessibility(page)  # with every table open


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_reports_page_passes_axe_in_both_languages(
    page: Page, site: Site, seeded: Seeded, language: str, tmp_path: Path
) -> None:
    page.set_extra_http_headers({"Accept-Language": language})
    admin = site.new_user("global_admin")
    sign_in(page, site, admin)
    expect(page.locator("html")).to_have_attribute("lang", language)
    range_ = f"from={seeded.first.isoformat()}&to={seeded.last.isoformat()}"
    page.goto(f"{site.url}/admin/tenants/{seeded.tenant}/reports?{range_}")
    expect(page.locator("figure#by-result svg")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "portal-reports", language, tmp_path)
    page.goto(f"{site.url}/admin/reports?{range_}")  # every tenant
    check_accessibility(page)
    page.goto(f"{site.url}/admin/tenants/{seeded.tenant}/reports?from=nonsense")
    check_accessibility(page)  # the error page


def test_a_tenant_admin_sees_its_own_reports_only(page: Page, site: Site, seeded: Seeded) -> None:
    admin = site.new_user("tenant_admin")
    sign_in(page, site, admin)
    page.get_by_role("link", name="Reports").click()
    expect(page).to_have_url(f"{site.url}/admin/tenants/default/reports")
    expect(page.locator("figure#by-result svg")).to_be_visible()
    for path in ("/reports", "/reports/statement.csv?month=2026-01"):
        answer = page.goto(f"{site.url}/admin/tenants/{seeded.tenant}{path}")
        assert answer is not None and answer.status == 403, path
        expect(page.get_by_role("alert")).to_contain_text("organisation you do not manage")
        assert seeded.tenant not in page.locator("main").inner_text()
    page.goto(f"{site.url}/admin/reports")  # every tenant's: a global admin's only
    expect(page).to_have_url(f"{site.url}/admin/tenants/default/reports")
