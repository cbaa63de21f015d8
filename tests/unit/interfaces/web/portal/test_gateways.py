"""Gateways: a form per gateway kind with a labelled field per setting of the kind's model
(credentials write-only: password fields, never filled in), added, listed in failover order
with their health, changed (a blank credential keeps the stored one), deleted; a setting
the form or the service refuses is shown beside its field."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.unit.interfaces.web.conftest import csrf
from tests.unit.interfaces.web.portal.conftest import SignIn, post
from twostep.bootstrap import App
from twostep.domain.entities import Role
from twostep.services.admin import OPERATOR
from twostep.services.context import gateway_context

PAGE = "/admin/tenants/default/gateways"
HTTP = {
    "kind": "http",
    "name": "main",
    "s.url": "https://sms.example.com/send",
    "s.headers": '{"Authorization": "Bearer s3cr3t-t0ken"}',
    "s.body": '{"to": "{to}", "text": "{text}"}',
}
SMTP = {
    "kind": "smtp",
    "name": "mail",
    "s.host": "smtp.example.com",
    "s.from_address": "mfa@example.com",
    "s.username": "relay",
    "s.password": "first-pa55word",
}


def add(pages: TestClient, form: dict[str, str]) -> Any:
    return pages.post(PAGE, data={"csrf": csrf(pages.get(PAGE).text), **form})


def credentials(app: App, name: str) -> dict[str, Any]:
    with app.storage.transaction() as tx:
        (record,) = [g for g in tx.gateways.for_tenant(1) if g.name == name]
    assert record.sealed_secrets is not None
    opened = app.deps.secrets.open(record.sealed_secrets, gateway_context(record.id))
    found: dict[str, Any] = json.loads(opened)
    return found


def test_each_kind_has_a_form_with_a_labelled_field_per_setting(
    pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    page = pages.get(PAGE).text
    for kind in ("http", "outbox", "smtp", "twilio"):
        assert f'<input type="hidden" name="kind" value="{kind}">' in page
    inputs = re.findall(r'<(?:input|select|textarea) id="([a-z]+-[a-z_]+)"', page)
    assert {"http-url", "http-body", "smtp-host", "smtp-port", "twilio-account_sid"} <= set(inputs)
    for found in inputs:
        assert f'<label for="{found}">' in page, found  # every field labelled
    assert re.search(r'id="twilio-auth_token" name="s.auth_token" type="password"', page)
    assert re.search(r'id="http-headers" name="s.headers" type="password"', page)
    assert re.search(r'<select id="smtp-security" name="s.security"', page)
    assert 'name="settings"' not in page  # no kind falls back to the JSON box


def test_a_gateway_is_added_listed_without_its_credentials_and_deleted(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    added = add(pages, HTTP)
    assert added.headers.get("location") == PAGE + "?done=gateway_added", added.text
    listed = pages.get(PAGE).text
    assert '<th scope="row">main</th><td>http</td>' in listed
    assert "s3cr3t-t0ken" not in listed
    (gateway,) = app.gateways.list(OPERATOR, "default")
    assert gateway.kind == "http" and gateway.settings["body"] == {"to": "{to}", "text": "{text}"}
    assert credentials(app, "main") == {"headers": {"Authorization": "Bearer s3cr3t-t0ken"}}
    post(pages, PAGE, PAGE + "/delete", name="main")
    assert app.gateways.list(OPERATOR, "default") == []


def test_a_refused_setting_is_shown_beside_its_field(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    unreadable = add(pages, {**HTTP, "s.body": "{not json"})
    assert unreadable.status_code == 422
    assert re.search(r'id="e-http-body" role="alert">This is not valid JSON.<', unreadable.text)
    kept = r'id="http-body" name="s.body" [^>]*aria-invalid="true">\{not json<'
    assert re.search(kept, unreadable.text)  # as typed, beside its message
    assert "s3cr3t-t0ken" not in unreadable.text  # a credential is never shown back
    missing = add(pages, {k: v for k, v in HTTP.items() if k != "s.url"})
    assert missing.status_code == 422
    assert re.search(r'id="e-http-url" role="alert">url is required<', missing.text)
    wrong = add(
        pages,
        {"kind": "twilio", "name": "tw", "s.account_sid": "nope", "s.auth_token": "t"},
    )
    assert wrong.status_code == 422
    assert re.search(r'id="e-twilio-account_sid" role="alert">account_sid: ', wrong.text)
    assert app.gateways.list(OPERATOR, "default") == []


def test_a_blank_credential_keeps_the_stored_one_when_a_gateway_changes(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    assert add(pages, SMTP).status_code == 303
    edit = PAGE + "/mail/edit"
    page = pages.get(edit)
    assert page.status_code == 200
    assert 'value="smtp.example.com"' in page.text and "first-pa55word" not in page.text
    assert "Leave it blank to keep the stored one." in page.text
    changed = {k: v for k, v in SMTP.items() if k != "name"} | {"s.host": "relay.example.com"}
    kept = pages.post(edit, data={"csrf": csrf(page.text), **changed, "s.password": ""})
    assert kept.headers.get("location") == PAGE + "?done=gateway_changed", kept.text
    (gateway,) = app.gateways.list(OPERATOR, "default")
    assert gateway.settings["host"] == "relay.example.com"
    assert credentials(app, "mail")["password"] == "first-pa55word"
    page = pages.get(edit)
    new = pages.post(edit, data={"csrf": csrf(page.text), **changed, "s.password": "second"})
    assert new.status_code == 303
    assert credentials(app, "mail")["password"] == "second"
    trail = app.admin_events.query(OPERATOR, "default", action="gateway.update")
    assert [e.changes for e in trail] == [
        {"host": ["smtp.example.com", "relay.example.com"]},  # the credential kept: unchanged
        {"password": ["***", "***"]},  # changed, never written down
    ]


def test_a_change_the_service_refuses_is_shown_beside_its_field(
    app: App, pages: TestClient, admin_as: SignIn
) -> None:
    admin_as(Role.TENANT_ADMIN)
    add(pages, SMTP)
    edit = PAGE + "/mail/edit"
    page = pages.get(edit)
    refused = pages.post(edit, data={"csrf": csrf(page.text), "s.host": "", "s.port": "x"})
    assert refused.status_code == 422
    assert re.search(r'id="e-smtp-port" role="alert">This is not a whole number.<', refused.text)
    (gateway,) = app.gateways.list(OPERATOR, "default")
    assert gateway.settings["host"] == "smtp.example.com"  # nothing saved
