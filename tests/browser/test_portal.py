"""The management portal in a real Chromium against a real ``twostep serve``: the main
journeys end to end, the roles' limits, and axe-core on every page in English and Korean
(with screenshots of the key pages: tests/browser/portal.py)."""

from __future__ import annotations

import csv
import io
import re
import secrets
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import Site, check_accessibility, ok
from tests.browser.portal import lock, screenshot, sign_in
from tests.support import pskc_files
from twostep.adapters.importers import write_pskc
from twostep.domain.entities import OtpParams, OtpType
from twostep.domain.tokens import TokenRecord

pytestmark = pytest.mark.slow

KEYS = 4000  # keys of the import whose progress the browser sees
PASSWORD = "a password for the browser's import"
TOTP = OtpParams(type=OtpType.TOTP)


def users_page(site: Site) -> str:
    return f"{site.url}/admin/tenants/default/users"


def test_a_help_desk_finds_a_user_and_unlocks_them(page: Page, site: Site) -> None:
    target = site.new_user(role=None)
    lock(site, target.user)
    desk = site.new_user("help_desk")
    sign_in(page, site, desk)
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Name starts with").fill(target.user[:8].upper())
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row").filter(has_text=target.user)
    expect(row).to_contain_text("Locked")
    row.get_by_role("link", name=target.user).click()
    expect(page.get_by_text("Locked until")).to_be_visible()
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("status")).to_have_text("The user was unlocked.")
    expect(page.get_by_text("Not locked (0 recent failures)")).to_be_visible()
    with site.api() as api:
        user = ok(api.get(f"/v1/tenants/default/users/{target.user}")).json()
    assert user["locked"] is False


def test_a_tenant_admin_disables_and_enables_a_user(page: Page, site: Site) -> None:
    target = site.new_user(role=None)
    admin = site.new_user("tenant_admin")
    sign_in(page, site, admin)
    page.goto(f"{users_page(site)}/{target.user}")
    page.get_by_role("button", name="Disable the account").click()
    expect(page.get_by_role("status")).to_contain_text("The user was disabled")
    with site.api() as api:
        assert ok(api.get(f"/v1/tenants/default/users/{target.user}")).json()["disabled"]
    page.get_by_role("button", name="Enable the account").click()
    expect(page.get_by_role("status")).to_have_text("The user was enabled again.")
    with site.api() as api:
        assert not ok(api.get(f"/v1/tenants/default/users/{target.user}")).json()["disabled"]


def test_a_pskc_import_shows_its_progress_then_its_result_and_a_bad_files_error_by_key(
    page: Page, site: Site, tmp_path: Path
) -> None:
    admin = site.new_user("tenant_admin")
    sign_in(page, site, admin)
    page.get_by_role("link", name="Hardware tokens").click()
    tag = secrets.token_hex(3).upper()
    good = tmp_path / "good.pskc"
    # Large enough to run for seconds at the server (its keys are read one by one after a
    # PBKDF2 of 2,000,000 iterations): the browser sees the job's page while it runs.
    records = [
        TokenRecord(serial=f"G{tag}-{n:04d}", seed=secrets.token_bytes(20), params=TOTP)
        for n in range(KEYS)
    ]
    good.write_bytes(write_pskc(records, PASSWORD, iterations=2_000_000))
    page.get_by_label("File", exact=True).set_input_files(str(good))
    page.get_by_label("PSKC password").fill(PASSWORD)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page).to_have_url(re.compile(r"/tokens/imports/[0-9a-f]{32}$"))
    bar = page.get_by_role("progressbar")
    expect(bar).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(re.compile("Reading the file|Checking keys"))
    check_accessibility(page)  # the page while it runs: the bar and its words
    done = page.get_by_role("status").filter(has_text="tokens imported.")
    expect(done).to_have_text(f"{KEYS} tokens imported.", timeout=120_000)  # reloaded by itself
    expect(bar).to_have_count(0)
    check_accessibility(page)
    page.get_by_role("link", name="Back to the pool").click()
    page.get_by_label("Serial starts with").fill(f"G{tag}")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row").filter(has_text=f"G{tag}-")).to_have_count(50)  # a page

    bad = tmp_path / "bad.pskc"
    bad.write_bytes(pskc_files.one_bad_key(f"B{tag}-1", f"B{tag}-2"))
    page.get_by_label("File", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="Import", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The file was refused. Nothing was imported.")
    problem = alert.get_by_role("row").filter(has_text=f"serial B{tag}-2")
    expect(problem).to_contain_text("10 to 128 bytes")
    check_accessibility(page)
    with site.api() as api:
        found = ok(api.get("/v1/tenants/default/tokens", params={"serial_prefix": f"B{tag}"}))
    assert found.json() == []  # all or nothing: the good key of the bad file is not in


def test_an_integrations_key_is_shown_once(page: Page, site: Site) -> None:
    admin = site.new_user("tenant_admin")
    sign_in(page, site, admin)
    page.get_by_role("link", name="Integrations").click()
    name = f"Intranet {secrets.token_hex(2)}"
    page.get_by_label("New integration's name").fill(name)
    page.get_by_role("button", name="Create the integration").click()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    key = page.locator("#secret").inner_text()
    assert key
    check_accessibility(page)
    page.get_by_role("link", name="Back to the list").click()
    expect(page.get_by_role("row").filter(has_text=name)).to_be_visible()
    assert key not in page.content()
    page.go_back()  # the answer is no-store: the browser asks again, and no key comes back
    assert key not in page.content()
    # The key shown is the integration's: the API knows it (an unknown transaction, 404),
    # where a wrong key is refused (401).
    with httpx.Client(base_url=site.url, timeout=30) as client:
        for sent, status in ((key, 404), (key + "x", 401)):
            headers = {"Authorization": f"Bearer {sent}"}
            assert client.get("/v1/validate/none", headers=headers).status_code == status


def test_a_setting_out_of_range_is_shown_by_its_field(page: Page, site: Site) -> None:
    admin = site.new_user("tenant_admin")
    sign_in(page, site, admin)
    page.get_by_role("link", name="Settings").click()
    field = page.locator("#s-max_failures")
    field.fill("1000")
    page.get_by_role("button", name="Save the settings").click()
    expect(page.locator("#e-max_failures")).to_contain_text("Must be a whole number from 1 to 100.")
    expect(page.locator("#s-max_failures")).to_have_value("1000")
    expect(page.locator("#s-max_failures")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page)
    with site.api() as api:
        settings = ok(api.get("/v1/tenants/default/settings")).json()
    assert settings["max_failures"] == 10  # nothing saved


def test_the_audit_is_filtered_and_downloaded_as_csv(page: Page, site: Site) -> None:
    admin = site.new_user("help_desk")
    sign_in(page, site, admin)  # its own sign-in: a challenge, then an accept
    page.get_by_role("link", name="Sign-in audit").click()
    page.get_by_label("User").fill(admin.user)
    page.get_by_label("Result").select_option("accept")
    page.get_by_role("button", name="Filter").click()
    rows = page.get_by_role("row").filter(has_text=admin.user)
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Accepted")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download as CSV")).click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    events = list(csv.DictReader(io.StringIO(text)))
    assert [(e["user"], e["result"]) for e in events] == [(admin.user, "accept")]


def test_a_tenant_admin_cannot_reach_another_tenants_pages(page: Page, site: Site) -> None:
    other = f"other-{secrets.token_hex(3)}"
    with site.api() as api:
        ok(api.post("/v1/tenants", json={"name": other}))
        ok(api.post(f"/v1/tenants/{other}/users", json={"user": "secret-agent"}))
    admin = site.new_user("tenant_admin")
    sign_in(page, site, admin)
    for path in ("", "/users", "/users/secret-agent", "/settings", "/audit", "/integrations"):
        answer = page.goto(f"{site.url}/admin/tenants/{other}{path}")
        assert answer is not None and answer.status == 403, path
        expect(page.get_by_role("alert")).to_contain_text("organisation you do not manage")
        assert "secret-agent" not in page.locator("main").inner_text()
    page.goto(f"{site.url}/admin/tenants")
    expect(page.get_by_role("link", name=other)).to_have_count(0)


def test_a_help_desk_cannot_change_settings_or_create_keys(page: Page, site: Site) -> None:
    desk = site.new_user("help_desk")
    sign_in(page, site, desk)
    nav = page.get_by_role("navigation", name="Management portal")
    for hidden in ("Settings", "Integrations", "Hardware tokens", "Gateways"):
        expect(nav.get_by_role("link", name=hidden)).to_have_count(0)
    for path in ("/settings", "/integrations", "/tokens", "/gateways"):
        answer = page.goto(f"{site.url}/admin/tenants/default{path}")
        assert answer is not None and answer.status == 403, path
        expect(page.get_by_role("alert")).to_contain_text("Your role does not allow this page.")
    token = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    for path, form in (
        ("/settings", {"csrf": token, "max_failures": "3"}),
        ("/integrations", {"csrf": token, "name": "sneaky"}),
    ):
        refused = page.request.post(f"{site.url}/admin/tenants/default{path}", form=form)
        assert refused.status == 403, path
    with site.api() as api:
        assert ok(api.get("/v1/tenants/default/settings")).json()["max_failures"] == 10
        names = [i["name"] for i in ok(api.get("/v1/tenants/default/integrations")).json()]
    assert "sneaky" not in names


def test_the_korean_gateway_form_shows_korean_labels_and_help(page: Page, site: Site) -> None:
    page.set_extra_http_headers({"Accept-Language": "ko"})
    admin = site.new_user("tenant_admin")
    sign_in(page, site, admin)
    page.goto(f"{site.url}/admin/tenants/default/gateways")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    smtp = page.locator("details").filter(has=page.locator("input[name=kind][value=smtp]"))
    smtp.locator("summary").click()
    # The SMTP relay's host: label and help in Korean, the setting's name beside the label.
    host = smtp.get_by_label(re.compile(r"^릴레이 호스트 host"))
    expect(host).to_be_visible()
    expect(host).to_have_accessible_description(re.compile(r"^릴레이의 호스트 이름 또는 주소"))
    expect(smtp.get_by_label(re.compile(r"^제한 시간\(초\) timeout"))).to_be_visible()
    sender = smtp.locator("#h-smtp-from_address")  # a model's <...> is text, not markup
    expect(sender).to_contain_text("이름과 함께: Twostep <mfa@example.com>")
    check_accessibility(page)


KEY_PAGES = {"dashboard": "", "users": "/users", "user": "/users/{user}", "settings": "/settings"}
OTHER_PAGES = ("/tokens", "/integrations", "/gateways", "/audit", "/admin-audit")


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_portal_page_passes_axe_in_both_languages(
    page: Page, site: Site, language: str, tmp_path: Path
) -> None:
    page.set_extra_http_headers({"Accept-Language": language})
    with site.api() as api:
        for first, last in (("Minji", "Kim"), ("Jonas", "Berg"), ("Aiko", "Tanaka")):
            body = {
                "user": f"{first.lower()}.{last.lower()}-{language}-{secrets.token_hex(2)}",
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}@example.com",
            }
            ok(api.post("/v1/tenants/default/users", json=body))
    shown = site.new_user(role=None)
    with site.api() as api:
        named = {"first_name": "Minji", "last_name": "Kim", "email": "minji.kim@example.com"}
        ok(api.patch(f"/v1/tenants/default/users/{shown.user}", json=named))
    admin = site.new_user("global_admin")
    sign_in(page, site, admin)
    expect(page.locator("html")).to_have_attribute("lang", language)
    base = f"{site.url}/admin/tenants/default"
    for name, path in KEY_PAGES.items():
        page.goto(
            base + path.format(user=shown.user) if name != "dashboard" else f"{site.url}/admin"
        )
        check_accessibility(page)
        screenshot(page, f"portal-{name}", language, tmp_path)
    for path in OTHER_PAGES:
        page.goto(base + path)
        check_accessibility(page)
    page.goto(f"{site.url}/admin/tenants")
    check_accessibility(page)
    page.goto(f"{base}/users/nobody-{secrets.token_hex(2)}")
    check_accessibility(page)  # the error page
    # The answers to forms: a key shown once, an import's result, a setting refused.
    page.goto(f"{base}/integrations")
    page.locator("#name").fill(f"axe-{language}-{secrets.token_hex(2)}")
    page.locator("form.stack").first.locator("button").click()
    expect(page.locator("#secret")).to_be_visible()
    check_accessibility(page)
    page.goto(f"{base}/tokens")
    upload = tmp_path / "axe.pskc"
    upload.write_bytes(pskc_files.encrypted([f"AXE-{language}-{secrets.token_hex(3)}"]))
    page.locator("#file").set_input_files(str(upload))
    page.locator("#key").fill(pskc_files.KEY.hex())
    page.locator("form.stack button").click()
    expect(page.locator("p.notice[role=status]")).to_be_visible()  # the job's result
    check_accessibility(page)
    page.goto(f"{base}/settings")
    page.locator("#s-max_failures").fill("0")
    page.locator("form.settings button[type=submit]").click()
    expect(page.locator("#e-max_failures")).to_be_visible()
    check_accessibility(page)
