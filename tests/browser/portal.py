"""Helpers of the management portal's browser tests: sign in as an admin of a role, lock a
user as too many failures would, and save screenshots of the key pages.

Screenshots: the portal's tests save each key page (dashboard, users, a user's page,
settings) in English and Korean as ``<name>-<lang>.png`` into a temporary folder; with
``SCREENSHOTS_DIR=<folder>`` they go there instead. The README's come from::

    SCREENSHOTS_DIR=docs/screenshots .venv/bin/pytest tests/browser/test_portal.py \
        tests/browser/test_reports.py -k axe -p no:cacheprovider
    SCREENSHOTS_DIR=docs/screenshots .venv/bin/pytest tests/browser/test_self_service.py \
        tests/browser/test_hosted_signin.py -k "axe or code_signs_in" -p no:cacheprovider

(Korean text needs a Korean font for Chromium to draw it: Debian's ``fonts-nanum``.)
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.harness import PASSWORD, Admin, Site


def sign_in(page: Page, site: Site, admin: Admin) -> None:
    """Password, then the authenticator code (oathtool's): on the dashboard."""
    page.goto(f"{site.url}/admin/signin")
    page.locator("#user").fill(admin.user)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/admin/signin/verify")
    page.locator("#code").fill(admin.code())
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/admin")


def lock(site: Site, user: str, seconds: float = 900) -> None:
    """Lock ``user`` for ``seconds`` in the server's store, as ten failures would."""
    db = sqlite3.connect(site.home / "twostep.db")
    try:
        with db:
            db.execute(
                "UPDATE users SET locked_until = strftime('%s','now') + ?, failed_count = 10 "
                "WHERE name = ?",
                (seconds, user),
            )
    finally:
        db.close()


def screenshot(page: Page, name: str, language: str, fallback: Path) -> Path:
    """The whole page as a PNG, named ``<name>-<language>.png``."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{language}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
