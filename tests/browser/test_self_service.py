"""The self-service portal (/my) in a real Chromium against a real ``twostep serve``: a new
user registers an authenticator app by reading the page's QR code (zbar) and typing its
code (oathtool); a phone added and changed through the outbox gateway; app passwords;
"not me"; the enrollment link; axe on every page in English and Korean."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import (
    PASSWORD,
    Admin,
    Site,
    check_accessibility,
    ok,
    read_qr,
    submit,
    totp,
)
from tests.browser.portal import screenshot

pytestmark = pytest.mark.slow

MOBILE = "+14155550123"
OTHER_MOBILE = "+14155550199"
ENROLL = "/my/enroll/"


def newcomer(site: Site, password: str | None = PASSWORD) -> str:
    """A user who must register: MFA enabled, nothing registered (a password, or none)."""
    name = f"new-{secrets.token_hex(3)}"
    with site.api() as api:
        ok(api.post("/v1/tenants/default/users", json={"user": name, "mfa": "enabled"}))
        if password is not None:
            ok(api.put(f"/v1/tenants/default/users/{name}/password", json={"password": password}))
    return name


def password_step(page: Page, site: Site, user: str) -> None:
    page.goto(f"{site.url}/my/signin")
    page.locator("#user").fill(user)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button").click()


def sign_in(page: Page, site: Site, user: Admin) -> None:
    password_step(page, site, user.user)
    expect(page).to_have_url(f"{site.url}/my/verify")
    page.locator("#code").fill(user.code())
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/my")


def register_app_by_its_qr_code(page: Page, tmp_path: Path) -> None:
    """At the registration or the security info: add an app, read its QR code with zbar,
    type oathtool's code for the secret it holds."""
    page.locator("form[action='/my/app'] button").click()
    uri = read_qr(page.locator("#qr").screenshot(), tmp_path)
    assert uri.startswith("otpauth://totp/")
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    expect(page.locator("#secret")).to_have_text(secret)  # the same key, to type by hand
    page.locator("#code").fill(totp(secret))
    page.locator("form.stack button").click()


def outbox_code(site: Site, to: str) -> str:
    lines = (site.home / "outbox.jsonl").read_text().splitlines()
    sent = [json.loads(line) for line in lines if json.loads(line).get("to") == to]
    found = re.search(r"\b(\d{6})\b", sent[-1]["body"])
    assert found, sent[-1]
    return found.group(1)


def test_a_new_user_registers_an_app_by_reading_its_qr_code(
    page: Page, site: Site, tmp_path: Path
) -> None:
    user = newcomer(site)
    password_step(page, site, user)
    expect(page).to_have_url(f"{site.url}/my")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a method")
    register_app_by_its_qr_code(page, tmp_path)
    expect(page).to_have_url(f"{site.url}/my?done=app")
    expect(page.locator(".notice")).to_have_text("Your authenticator app is ready.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your security info")
    expect(page.get_by_text(f"Signed in as {user}")).to_be_visible()


def test_the_mobile_authenticator_is_activated_from_the_pages_qr_code(
    page: Page, site: Site, tmp_path: Path
) -> None:
    """The reference authenticator activates with what the QR code holds (read by zbar)."""
    user = newcomer(site)
    password_step(page, site, user)
    page.locator("form[action='/my/device'] button").click()
    uri = read_qr(page.locator("#qr").screenshot(), tmp_path)
    assert uri.startswith("twostep://activate?")
    code = parse_qs(urlsplit(uri).query)["code"][0]
    expect(page.locator("#activation-code")).to_have_text(re.compile(code[:4]))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "twostep.authenticator.cli",
            "--home",
            str(tmp_path / "phone"),
            "activate",
            f"{site.url}/v1/devices/activate",  # this server (its public URL is not set)
            code,
            "--name",
            "browser-phone",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    page.get_by_role("button", name="I activated it: continue").click()
    expect(page).to_have_url(f"{site.url}/my?done=device")
    devices = page.locator("table", has=page.get_by_text("Your mobile authenticators"))
    expect(devices.get_by_role("cell", name="browser-phone", exact=True)).to_be_visible()
    expect(page.get_by_text("Approve on the mobile app")).to_be_visible()  # its push method


def test_a_phone_is_added_then_changed_with_the_code_sent_to_it(page: Page, site: Site) -> None:
    user = site.new_user(role=None)
    sign_in(page, site, user)
    page.locator("#phone").fill(MOBILE)
    page.locator("#kind").select_option("sms")
    page.locator("form[action='/my/phone'] button").click()
    page.locator("#code").fill(outbox_code(site, MOBILE))
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/my?done=phone")
    expect(page.get_by_role("cell", name=MOBILE, exact=True)).to_be_visible()
    # A new number in its place: the old one goes once the new one is confirmed.
    page.locator("#phone").fill(OTHER_MOBILE)
    page.locator("#replaces").select_option(label=MOBILE)
    page.locator("form[action='/my/phone'] button").click()
    page.locator("#code").fill(outbox_code(site, OTHER_MOBILE))
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/my?done=phone")
    expect(page.get_by_role("cell", name=OTHER_MOBILE, exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=MOBILE, exact=True)).to_have_count(0)


def test_an_app_password_is_shown_once_then_deleted(page: Page, site: Site) -> None:
    with site.api() as api:
        ok(api.patch("/v1/tenants/default/settings", json={"app_passwords_allowed": True}))
    user = site.new_user(role=None)
    sign_in(page, site, user)
    page.get_by_role("link", name="App passwords").click()
    page.locator("#name").fill("Mail on my laptop")
    page.get_by_role("button", name="Create an app password").click()
    shown = page.locator("#app-password").inner_text()
    assert re.fullmatch(r"([a-z2-7]{4}-){5}[a-z2-7]{4}", shown)
    page.get_by_role("link", name="App passwords").click()
    expect(page.get_by_role("cell", name="Mail on my laptop", exact=True)).to_be_visible()
    expect(page.get_by_text(shown)).to_have_count(0)
    page.get_by_role("button", name="Delete Mail on my laptop").click()
    expect(page.locator(".notice")).to_have_text("The app password was deleted.")
    expect(page.get_by_role("cell", name="Mail on my laptop", exact=True)).to_have_count(0)


def test_a_sign_in_is_reported_as_not_me(page: Page, site: Site) -> None:
    user = site.new_user(role=None)
    sign_in(page, site, user)
    page.get_by_role("link", name="Recent sign-ins").click()
    page.locator("form[action='/my/signins/report'] button").first.click()
    expect(page.locator(".notice")).to_have_text(
        "Thank you. Your administrator was told about this sign-in."
    )
    expect(page.get_by_role("cell", name="Reported", exact=True)).to_have_count(1)
    with site.api() as api:
        trail = ok(api.get("/v1/tenants/default/admin-events?action=signin.report")).json()
    assert any(e["target"].startswith(f"{user.user}/") for e in trail["events"])


def test_the_enrollment_link_registers_a_user_without_a_password(
    page: Page, site: Site, tmp_path: Path
) -> None:
    user = newcomer(site, password=None)
    with site.api() as api:
        made = ok(api.post(f"/v1/tenants/default/users/{user}/enrollment-links")).json()
    landing = f"{site.url}{ENROLL}{made['url'].split(ENROLL, 1)[1]}"
    page.goto(landing)
    expect(page.get_by_text(user)).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a method")
    register_app_by_its_qr_code(page, tmp_path)
    expect(page).to_have_url(f"{site.url}/my?done=app")
    page.goto(landing)  # used once: it works no more
    expect(page.get_by_role("heading", level=1)).to_have_text("Link not valid")


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_page_passes_axe_in_both_languages(
    page: Page, site: Site, language: str, tmp_path: Path
) -> None:
    page.set_extra_http_headers({"Accept-Language": language})
    with site.api() as api:
        ok(api.patch("/v1/tenants/default/settings", json={"app_passwords_allowed": True}))
    # A user with no password, and their link: the landing page, the registration.
    fresh = newcomer(site, password=None)
    with site.api() as api:
        made = ok(api.post(f"/v1/tenants/default/users/{fresh}/enrollment-links")).json()
    page.goto(f"{site.url}{ENROLL}{made['url'].split(ENROLL, 1)[1]}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    check_accessibility(page)  # the link's landing page
    submit(page, page.locator("form.stack button"))
    check_accessibility(page)  # the registration
    submit(page, page.locator("form[action='/my/device'] button"))
    check_accessibility(page)  # the mobile authenticator's activation
    page.goto(f"{site.url}/my")
    submit(page, page.locator("form[action='/my/app'] button"))
    check_accessibility(page)  # the app's QR code and key
    screenshot(page, "my-add-app", language, tmp_path)
    page.locator("#code").fill("000000")
    submit(page, page.locator("form.stack button"))
    check_accessibility(page)  # a wrong code
    page.goto(f"{site.url}{ENROLL}not-a-link")
    check_accessibility(page)  # a link that does not work
    # A registered user: sign-in, second factor, every page of the portal.
    page.context.clear_cookies()
    user = site.new_user(role=None)
    page.goto(f"{site.url}/my/signin")
    check_accessibility(page)  # the sign-in
    page.locator("#user").fill(user.user)
    page.locator("#password").fill("wrong password")
    submit(page, page.locator("form.stack button"))
    check_accessibility(page)  # a failed sign-in
    password_step(page, site, user.user)
    check_accessibility(page)  # the second factor
    page.locator("#code").fill(user.code())
    page.locator("form.stack button").click()
    expect(page).to_have_url(f"{site.url}/my")
    check_accessibility(page)  # the security info
    screenshot(page, "my-security-info", language, tmp_path)
    page.locator("#phone").fill(MOBILE)
    submit(page, page.locator("form[action='/my/phone'] button"))
    check_accessibility(page)  # the phone's code
    page.goto(f"{site.url}/my/app-passwords")
    page.locator("#name").fill("Mail")
    submit(page, page.locator("form.stack button"))
    check_accessibility(page)  # an app password, shown once
    page.goto(f"{site.url}/my/signins")
    check_accessibility(page)  # recent sign-ins
    submit(page, page.locator("form[action='/my/signins/report'] button").first)
    check_accessibility(page)  # reported
