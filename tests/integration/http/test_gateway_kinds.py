"""Gateway kinds by what they can do: a message goes only to the tenant's gateways that can
carry it, a webhook to a gateway that cannot take it is refused (403 webhook_refused), and
/openapi.json describes each kind's settings, credentials marked write-only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from fastapi.testclient import TestClient

from tests.support.fake_twilio import Recorder, serving
from tests.support.postgres import free_port
from twostep.bootstrap import App
from twostep.domain.delivery import Channel, TextMessage, VoiceCall
from twostep.domain.ports.gateways import GatewayRecord
from twostep.services.delivery import DeliveryFailed

pytestmark = pytest.mark.usefixtures("backend")

TO = "+14155550123"
GATEWAYS = "/v1/tenants/default/gateways"


@dataclass
class Inbox:
    messages: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def relay() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def sms_api() -> Iterator[Recorder]:
    with serving() as recorder:
        yield recorder


def add(client: TestClient, admin: dict[str, str], name: str, kind: str, **settings: Any) -> str:
    r = client.post(
        GATEWAYS, json={"name": name, "kind": kind, "settings": settings}, headers=admin
    )
    assert r.status_code == 201, r.text
    gateway_id: str = r.json()["id"]
    return gateway_id


def tenant_id(app: App) -> int:
    with app.storage.transaction() as tx:
        tenant = tx.tenants.by_name("default")
    assert tenant is not None
    return tenant.id


def call_for(gateway_id: str) -> VoiceCall:
    return VoiceCall(TO, None, "Press #", "en-US", "tx-1", 1, f"https://mfa.test/{gateway_id}")


def test_each_message_goes_to_the_first_gateway_that_can_carry_it(
    app: App,
    client: TestClient,
    admin: dict[str, str],
    relay: tuple[Inbox, int],
    sms_api: Recorder,
) -> None:
    inbox, port = relay
    add(client, admin, "sms-api", "http", url=sms_api.url)  # texts only
    add(
        client,
        admin,
        "mail",
        "smtp",
        host="127.0.0.1",
        port=port,
        security="none",
        from_address="Twostep <mfa@example.com>",
        mode="email",
    )
    add(client, admin, "dev", "outbox", path="dev-outbox.jsonl")  # everything, but last
    delivery, tenant = app.delivered.delivery, tenant_id(app)

    email = TextMessage("alice@example.com", "Your code is 493027", Channel.EMAIL)
    assert delivery.send_text(tenant, email).gateway == "mail"
    assert inbox.messages[0].rcpt_tos == ["alice@example.com"]
    assert sms_api.requests == []  # an SMS API never sees an email

    assert delivery.send_text(tenant, TextMessage(TO, "Your code is 493027")).gateway == "sms-api"
    assert len(inbox.messages) == 1  # an email-only relay never sees a text

    assert delivery.place_call(tenant, call_for).gateway == "dev"  # the only one that calls


def test_an_email_sign_in_through_the_smtp_gateway(
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    relay: tuple[Inbox, int],
) -> None:
    inbox, port = relay
    settings = {"host": "127.0.0.1", "port": port, "security": "none", "mode": "email"}
    add(client, admin, "mail", "smtp", **settings, from_address="Twostep <mfa@example.com>")
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    method = {"kind": "email", "email": "alice@example.com"}
    r = client.post("/v1/tenants/default/users/alice/methods", json=method, headers=admin)
    assert r.status_code == 201, r.text
    r = client.post("/v1/validate", json={"user": "alice"}, headers=integration_key)
    assert r.json()["result"] == "challenge", r.text
    (envelope,) = inbox.messages
    assert envelope.rcpt_tos == ["alice@example.com"]
    content = envelope.content
    assert isinstance(content, bytes)
    email = message_from_bytes(content, policy=policy.default)
    assert isinstance(email, EmailMessage) and email["Subject"]
    code = re.findall(r"\b\d{6}\b", email.get_content())[0]
    tx = r.json()["transaction_id"]
    r = client.post(f"/v1/validate/{tx}", json={"code": code}, headers=integration_key)
    assert r.json()["result"] == "accept", r.text


def test_nothing_can_carry_it(app: App, client: TestClient, admin: dict[str, str]) -> None:
    add(client, admin, "sms-api", "http", url="http://127.0.0.1:9/send")
    delivery, tenant = app.delivered.delivery, tenant_id(app)
    with pytest.raises(DeliveryFailed, match="no gateway of this tenant delivers email"):
        delivery.send_text(tenant, TextMessage("alice@example.com", "Code", Channel.EMAIL))
    with pytest.raises(DeliveryFailed, match="no gateway of this tenant delivers voice"):
        delivery.place_call(tenant, call_for)


def test_a_gateway_whose_stored_settings_no_longer_load_hands_over(
    app: App, client: TestClient, admin: dict[str, str]
) -> None:
    with app.storage.transaction(write=True) as tx:
        tx.gateways.add(
            GatewayRecord(
                id="gw_" + "0" * 24,
                tenant_id=tenant_id(app),
                name="broken",
                kind="http",
                position=0,
                settings={"url": "ftp://sms.example.net/"},
                sealed_secrets=None,
                created_at=0.0,
            )
        )
    add(client, admin, "dev", "outbox", path="dev-outbox.jsonl")
    receipt = app.delivered.delivery.send_text(tenant_id(app), TextMessage(TO, "Code"))
    assert receipt.gateway == "dev"


@pytest.mark.parametrize(
    ("kind", "route"),
    [("smtp", "inbound"), ("smtp", "calls"), ("http", "calls")],
)
def test_a_webhook_the_kind_cannot_take_is_refused(
    client: TestClient, admin: dict[str, str], kind: str, route: str
) -> None:
    settings: dict[str, Any] = (
        {"host": "127.0.0.1", "security": "none", "from_address": "mfa@example.com"}
        if kind == "smtp"
        else {"url": "https://sms.example.net/send", "webhook_secret": "whsec-0123456789"}
    )
    gateway_id = add(client, admin, "gw", kind, **settings)
    r = client.post(f"/v1/gateways/{gateway_id}/{route}", json={"reference": "x", "digits": ""})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "webhook_refused")
    assert "takes no" in r.json()["error"]["message"]


def test_the_email_mode_is_a_setting_listed_in_plain(
    client: TestClient, admin: dict[str, str]
) -> None:
    settings = {"host": "smtp.example.com", "from_address": "mfa@example.com", "mode": "email"}
    settings |= {"username": "relay", "password": "relay-pass-1"}
    add(client, admin, "mail", "smtp", **settings)
    (listed,) = client.get(GATEWAYS, headers=admin).json()
    assert listed["settings"]["mode"] == "email"
    assert listed["settings"]["subject"] == "Your verification code"
    assert listed["credentials"] == ["password"]
    assert "relay-pass-1" not in json.dumps(listed)


@pytest.mark.parametrize(
    ("kind", "settings", "field"),
    [
        ("smtp", {"host": "h", "from_address": "a@b.c", "mode": "fax"}, "mode"),
        ("smtp", {"host": "h", "from_address": "a@b.c, d@e.f"}, "from_address"),
        ("smtp", {"host": "h", "from_address": "a@b.c", "port": "25"}, "port"),
        ("twilio", {"account_sid": "AC1", "auth_token": "t", "from_number": TO}, "account_sid"),
        ("http", {"url": "https://x.test", "colour": "blue"}, "colour"),
        ("pigeon", {}, "kind"),
    ],
)
def test_refusals_keep_their_answer(
    client: TestClient, admin: dict[str, str], kind: str, settings: dict[str, Any], field: str
) -> None:
    r = client.post(GATEWAYS, json={"name": "g", "kind": kind, "settings": settings}, headers=admin)
    error = r.json()["error"]
    assert (r.status_code, error["code"], error["field"]) == (422, "invalid_setting", field)


def test_openapi_describes_each_kind(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    body = schemas["GatewayBody"]
    assert body["discriminator"]["propertyName"] == "kind"
    assert set(body["discriminator"]["mapping"]) == {"outbox", "http", "smtp", "twilio"}
    smtp = schemas["SmtpSettings"]
    assert set(smtp["required"]) == {"host", "from_address"}
    assert smtp["additionalProperties"] is False
    modes = next(s for s in smtp["properties"]["mode"]["anyOf"] if s.get("type") == "string")
    assert set(modes["enum"]) == {"email", "sms"}
    port = smtp["properties"]["port"]["anyOf"][0]
    assert (port["type"], port["minimum"], port["maximum"]) == ("integer", 1, 65535)
    # Credentials: write-only, shown as passwords; nothing else is.
    secret = {
        (kind, name)
        for kind in ("Outbox", "Http", "Smtp", "Twilio")
        for name, prop in schemas[f"{kind}Settings"]["properties"].items()
        if _write_only(prop)
    }
    assert secret == {
        ("Outbox", "webhook_secret"),
        ("Http", "headers"),
        ("Http", "password"),
        ("Http", "api_key"),
        ("Http", "webhook_secret"),
        ("Smtp", "password"),
        ("Twilio", "auth_token"),
    }
    assert schemas["TwilioSettings"]["properties"]["auth_token"]["format"] == "password"


def _write_only(prop: dict[str, Any]) -> bool:
    return bool(prop.get("writeOnly")) or any(p.get("writeOnly") for p in prop.get("anyOf", []))
