"""A push sign-in in the browser: the page shows the number to match and follows the
request live (static/poll.js) while the reference authenticator, ``twostep-authenticator``,
approves it with that number; the page goes on to /admin by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import PASSWORD, Site, check_accessibility, ok

pytestmark = pytest.mark.slow


def authenticator(home: Path, *args: str) -> str:
    script = Path(sys.executable).parent / "twostep-authenticator"
    command = (
        [str(script)] if script.exists() else [sys.executable, "-m", "twostep.authenticator.cli"]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOSTEP_")}
    done = subprocess.run(
        [*command, "--home", str(home), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_page_waits_for_the_phone_and_goes_on_when_approved(
    page: Page, site: Site, tmp_path: Path, language: str
) -> None:
    user = f"push-{language}"
    with site.api() as api:
        ok(api.post("/v1/tenants/default/users", json={"user": user}))
        ok(api.put(f"/v1/tenants/default/users/{user}/password", json={"password": PASSWORD}))
        ok(api.post("/v1/admins", json={"tenant": "default", "user": user, "role": "help_desk"}))
        started = ok(api.post(f"/v1/tenants/default/users/{user}/devices/activations")).json()
    phone = tmp_path / "phone"
    authenticator(phone, "activate", started["activation_uri"], "--name", "test phone")

    page.set_extra_http_headers({"Accept-Language": language})
    page.goto(f"{site.url}/admin/signin")
    page.locator("#user").fill(user)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/admin/signin/verify")
    number = page.locator(".number").inner_text()
    assert number.isdigit()
    check_accessibility(page)  # the push page, waiting
    out = authenticator(
        phone,
        "watch",
        f"{user}@default",
        "--once",
        "--approve-with-number",
        number,
        "--timeout",
        "20",
    )
    assert "Approved. Server result: accept" in out
    # Nobody touches the page: its script sees the decision and posts the form.
    expect(page).to_have_url(f"{site.url}/admin", timeout=20_000)
