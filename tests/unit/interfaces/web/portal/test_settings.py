"""Tenant settings: every setting of the model on the page with its range and help text (in
both languages); a change is saved on the admin trail; a value out of range is shown by its
field and nothing is saved."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.unit.interfaces.web.portal.conftest import SignIn, csrf
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.domain.settings import FLAT_FIELDS, TenantSettings
from twostep.services.admin import OPERATOR

PAGE = "/admin/tenants/default/settings"


def form_of(html: str) -> dict[str, str]:
    """The settings form as a browser would post it unchanged."""
    values: dict[str, str] = {"csrf": csrf(html)}
    for name, value in re.findall(r'<input id="s-[^"]+" name="([^"]+)" value="([^"]*)"', html):
        values[name] = value.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    for name in re.findall(r'<input id="s-[^"]+" name="([^"]+)" type="checkbox" checked', html):
        values[name] = "on"
    for name, body in re.findall(
        r'<textarea id="s-[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', html
    ):
        values[name] = body
    for name, chosen in re.findall(
        r'<select id="s-[^"]+" name="([^"]+)"[^>]*>.*?<option value="([^"]+)" selected>', html, re.S
    ):
        values[name] = chosen
    return values


def test_every_setting_is_on_the_page_with_its_range_and_help(
    pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    html = pages.get(PAGE).text
    for name in FLAT_FIELDS:
        assert f'name="{name}"' in html, name
    assert "consecutive failures before the user is locked" in html
    assert "Range: 1 to 100." in html
    pages.cookies.set("twostep_lang", "ko", domain="mfa.test")
    korean = pages.get(PAGE).text
    assert "사용자가 잠기기 전 연속 실패 횟수" in korean and "범위: 1 ~ 100." in korean


def test_posting_the_form_unchanged_changes_nothing(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    sent = form_of(pages.get(PAGE).text)
    answer = pages.post(PAGE, data=sent)
    assert answer.status_code == 303, answer.text
    assert app.admin.get_tenant(OPERATOR, "default").settings == TenantSettings()
    assert app.admin_events.query(OPERATOR, "default", action="settings.update")[0].changes == {}


def test_a_change_is_saved(app: App, pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.TENANT_ADMIN)
    sent = form_of(pages.get(PAGE).text)
    sent["max_failures"] = "5"
    sent.pop("fraud_blocks_user")  # an unticked box
    sent["allowed_calling_codes"] = "1\n44"
    answer = pages.post(PAGE, data=sent)
    assert answer.headers["location"] == PAGE + "?done=settings"
    settings = app.admin.get_tenant(OPERATOR, "default").settings
    assert settings.lockout.max_failures == 5 and not settings.lockout.fraud_blocks_user
    assert settings.phone.allowed_calling_codes == ("1", "44")
    (event,) = app.admin_events.query(OPERATOR, "default", action="settings.update")
    assert event.interface == "web" and event.changes["max_failures"] == [10, 5]


def test_a_value_out_of_range_is_shown_by_its_field(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    sent = form_of(pages.get(PAGE).text)
    sent["max_failures"] = "1000"
    sent["totp_window"] = "3"
    answer = pages.post(PAGE, data=sent)
    assert answer.status_code == 422
    error = re.search(r'<p class="error" id="e-max_failures" role="alert">([^<]*)', answer.text)
    assert error is not None and "Must be a whole number from 1 to 100." in error.group(1)
    assert 'name="max_failures" value="1000"' in answer.text  # kept as typed
    assert 'name="totp_window" value="3"' in answer.text
    assert app.admin.get_tenant(OPERATOR, "default").settings == TenantSettings()


def test_a_help_desk_does_not_see_the_settings(pages: TestClient, admin_as: SignIn) -> None:
    admin_as(Role.HELP_DESK)
    assert pages.get(PAGE).status_code == 403
    assert "/settings" not in pages.get("/admin").text  # not in the menu either
