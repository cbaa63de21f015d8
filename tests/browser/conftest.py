"""Fixtures of the browser tests (harness.py says what each gives): one real server and one
Chromium for the session, a clean page (no cookies) for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from tests.browser.harness import CHROMIUM_FLAGS, Site, chromium
from tests.support.postgres import free_port
from tests.support.servers import start, stop, wait_healthy
from twostep.bootstrap import build
from twostep.config import Config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``twostep serve`` (one worker, SQLite) on 127.0.0.1."""
    home = tmp_path_factory.mktemp("browser-site")
    app = build(Config.from_env({"TWOSTEP_HOME": str(home)}), upgrade=True)
    try:
        app.admin.ensure_default_tenant()
        key = app.admin.bootstrap_admin_key()
        assert key is not None
    finally:
        app.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start({"TWOSTEP_HOME": str(home)}, port, "node-0", workers=1)
    try:
        wait_healthy(url, proc)
        yield Site(url, home, key)
    finally:
        stop([proc])


# Package scope, not session: Playwright's sync API runs an event loop in the main thread
# while it is open, and asyncio.run() in any later test would fail on it.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    executable = chromium()  # fails in CI when missing, before Playwright starts
    assert executable
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="package")
def browser(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, in a fresh profile (its own user-data dir)."""
    profile: Path = tmp_path_factory.mktemp("chromium-profile")
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=chromium(), headless=True, args=CHROMIUM_FLAGS
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    browser.clear_cookies()
    opened = browser.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        opened.close()
