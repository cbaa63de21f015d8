"""Logs never hold a secret: a sign-in of every method kind (enrollment included), with a
primary password, an app password and wrong tries, runs with the server's logging at DEBUG
through its own formatter; no seed, code, password, PIN, key, nonce, signature or app
password is found in any line, in plain, hex or base32 form."""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Iterable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.http.test_devices import activated, now
from tests.integration.http.test_phone import webhook
from tests.support.fakes import FakeClock
from tests.support.logs import Captured, captured
from tests.support.phones import LANDLINE, MOBILE, code_of, sent_to
from twostep.bootstrap import App
from twostep.domain.entities import OtpParams, OtpType
from twostep.factors import otp
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

USERS = "/v1/tenants/default/users"


class Secrets:
    """Every secret value the test uses, to look for in the logs."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def add(self, what: str, value: str | bytes) -> None:
        self.values[what] = value.decode("latin-1") if isinstance(value, bytes) else value

    def forms(self) -> Iterable[tuple[str, str]]:
        for what, value in self.values.items():
            raw = value.encode("latin-1") if not value.isascii() else value.encode()
            b32 = base64.b32encode(raw).decode()
            for form in {value, raw.hex(), raw.hex().upper(), b32, b32.rstrip("=")}:
                for variant in {form, form.lower()}:
                    if len(variant) >= 4:
                        yield what, variant

    def found_in(self, text: str) -> list[str]:
        leaks = []
        for what, form in self.forms():
            # Codes and PINs are digits: only a run of exactly those digits counts.
            pattern = rf"(?<![0-9]){re.escape(form)}(?![0-9])" if form.isdigit() else None
            if (pattern and re.search(pattern, text)) or (not pattern and form in text):
                leaks.append(f"{what}: {form!r}")
        return leaks


def post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    r = client.post(path, json=body, headers=headers)
    assert r.status_code in (200, 201, 204), (path, r.status_code, r.text)
    return r.json() if r.content else None


def validate(client: TestClient, key: dict[str, str], **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = post(client, "/v1/validate", body, key)
    return answer


def sign_ins(
    app: App,
    client: TestClient,
    admin: dict[str, str],
    key: dict[str, str],
    clock: FakeClock,
    found: Secrets,
) -> None:
    found.add("admin key", admin["Authorization"].split()[1])
    found.add("integration key", key["Authorization"].split()[1])
    found.add("secret key", app.config.storage.secret_key.get_secret_value())  # type: ignore[union-attr]
    for user in ("u_app", "u_tok", "u_sms", "u_reply", "u_voice", "u_mail"):
        post(client, USERS, {"user": user, "email": f"{user}@example.com"}, admin)

    # app_code: enrolled over the API, confirmed, used; a wrong code; a password with a code.
    enrollment = post(client, f"{USERS}/u_app/methods", {"kind": "app_code"}, admin)
    secret = enrollment["otpauth_uri"].split("secret=")[1].split("&")[0]
    seed = otp.parse_seed(secret)
    found.add("app seed", seed)
    found.add("app seed as shown", secret)
    found.add("otpauth URI", enrollment["otpauth_uri"])

    def app_code(offset: int = 0) -> str:
        code = otp.hotp(seed, OtpParams(), otp.time_step(clock.now(), 30) + offset)
        found.add(f"app code {offset}", code)
        return code

    confirm = f"{USERS}/u_app/methods/{enrollment['id']}/confirm"
    post(client, confirm, {"code": app_code(-1)}, admin)
    assert validate(client, key, user="u_app", code=app_code())["result"] == "accept"
    wrong = "918273" if app_code(1) != "918273" else "918274"
    found.add("wrong code", wrong)
    assert validate(client, key, user="u_app", code=wrong)["result"] == "reject"
    password = "correct horse battery staple"
    found.add("password", password)
    client.put(f"{USERS}/u_app/password", json={"password": password}, headers=admin)
    clock.advance(30)
    answer = validate(client, key, user="u_app", password=password, code=app_code())
    assert answer["result"] == "accept"
    found.add("wrong password", "correct horse battery stable")
    answer = validate(client, key, user="u_app", password="correct horse battery stable")
    assert answer["result"] == "reject"

    # An app password, through a legacy integration.
    app.admin.update_settings(OPERATOR, "default", {"app_passwords_allowed": True})
    _legacy, legacy_key = app.admin.create_integration(OPERATOR, "default", "imap", legacy=True)
    found.add("legacy key", legacy_key)
    made = post(client, f"{USERS}/u_app/app-passwords", {"name": "Mail"}, admin)
    found.add("app password", made["password"])
    found.add("app password typed", made["password"].replace("-", ""))
    legacy = {"Authorization": f"Bearer {legacy_key}"}
    assert validate(client, legacy, user="u_app", password=made["password"])["result"] == "accept"

    # oath_token: a hardware token's seed, given in base32.
    token_seed = bytes(range(100, 120))
    found.add("token seed", token_seed)
    body = {
        "kind": "oath_token",
        "serial": "LOGS123",
        "secret": otp.b32encode(token_seed),
        "otp_type": "hotp",
    }
    post(client, f"{USERS}/u_tok/methods", body, admin)
    token_code = otp.hotp(token_seed, OtpParams(type=OtpType.HOTP), 1)
    found.add("token code", token_code)
    assert validate(client, key, user="u_tok", code=token_code)["result"] == "accept"

    # app_push: activation, the request with its nonce, the signed approval.
    phone = activated(client, admin)  # user "alice"
    found.add("device public key", phone.public_key())  # not secret; must not be logged either
    challenge = validate(client, key, user="alice")
    tx = challenge["transaction_id"]
    path = f"/v1/devices/{phone.id}/requests"
    requests = client.get(path, headers={"Authorization": phone.header("GET", path, now())})
    [request] = requests.json()["requests"]
    found.add("nonce", request["nonce"])
    signature = phone.answer(tx, "approve", challenge["number"], request["nonce"])
    found.add("push signature", signature)
    path = f"/v1/devices/{phone.id}/requests/{tx}"
    body = {
        "decision": "approve",
        "number": challenge["number"],
        "nonce": request["nonce"],
        "signature": signature,
    }
    r = client.post(path, json=body, headers={"Authorization": phone.header("POST", path, now())})
    assert r.json()["result"] == "accept", r.text

    # sms: the texted code, typed back.
    post(client, f"{USERS}/u_sms/methods", {"kind": "sms", "phone": MOBILE}, admin)
    tx = validate(client, key, user="u_sms")["transaction_id"]
    found.add("sms code", code_of(app, tx))
    answer = post(client, f"/v1/validate/{tx}", {"code": code_of(app, tx)}, key)
    assert answer["result"] == "accept"

    # sms_reply: the code texted back from the phone, while the integration long-polls.
    post(client, f"{USERS}/u_reply/methods", {"kind": "sms_reply", "phone": MOBILE}, admin)
    tx = validate(client, key, user="u_reply")["transaction_id"]
    found.add("reply code", code_of(app, tx))
    outcome: dict[str, Any] = {}
    waiter = threading.Thread(
        target=lambda: outcome.update(client.get(f"/v1/validate/{tx}?wait=20", headers=key).json())
    )
    waiter.start()
    time.sleep(0.2)
    text = {"from": MOBILE, "text": code_of(app, tx)}
    assert webhook(app, client, "/v1/gateways/outbox/inbound", text).status_code == 204
    waiter.join(timeout=20)
    assert outcome["result"] == "accept"

    # voice with a PIN, typed on the call.
    pin = "73915"
    found.add("voice PIN", pin)
    post(
        client, f"{USERS}/u_voice/methods", {"kind": "voice", "phone": LANDLINE, "pin": pin}, admin
    )
    tx = validate(client, key, user="u_voice")["transaction_id"]
    callback = sent_to(app, tx)["callback_url"].split("127.0.0.1:8080", 1)[1]
    found.add("wrong PIN", "11111")
    assert webhook(app, client, callback, {"reference": tx, "digits": "11111"}).status_code == 200
    tx = validate(client, key, user="u_voice")["transaction_id"]
    callback = sent_to(app, tx)["callback_url"].split("127.0.0.1:8080", 1)[1]
    r = webhook(app, client, callback, {"reference": tx, "digits": pin})
    assert r.status_code == 200 and "approved" in r.text
    assert client.get(f"/v1/validate/{tx}", headers=key).json()["result"] == "accept"

    # email: the code by mail.
    post(client, f"{USERS}/u_mail/methods", {"kind": "email", "email": "mail@example.com"}, admin)
    tx = validate(client, key, user="u_mail")["transaction_id"]
    found.add("email code", code_of(app, tx))
    answer = post(client, f"/v1/validate/{tx}", {"code": code_of(app, tx)}, key)
    assert answer["result"] == "accept"

    found.add("webhook secret", app.delivered.delivery.outbox.webhook_secret)


def _kinds(app: App) -> set[str]:
    return {e.method for e in app.audit.query(OPERATOR, "default", limit=1000) if e.method}


def test_no_secret_of_any_sign_in_reaches_the_logs(
    app: App,
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    clock: FakeClock,
) -> None:
    found = Secrets()
    logs: Captured
    with captured("DEBUG", "json") as logs:
        sign_ins(app, client, admin, integration_key, clock, found)
    # Every kind was signed in with, and the logs said something about it.
    assert _kinds(app) >= {
        "app_code",
        "oath_token",
        "app_push",
        "sms",
        "sms_reply",
        "voice",
        "email",
        "app_password",
    }
    # At DEBUG each audit event is logged too, with its request's id.
    audited = [x for x in logs.lines() if x["logger"] == "twostep.audit"]
    assert {m for x in audited for m in _kinds(app) if f" {m} " in x["message"]} == _kinds(app)
    assert all(x.get("request_id") for x in audited)
    assert found.found_in(logs.text()) == []


def test_the_search_finds_a_secret_that_is_logged() -> None:
    """The search itself works: each form of a secret is found."""
    found = Secrets()
    found.add("seed", bytes(range(20)))
    found.add("code", "123456")
    seed_b32 = base64.b32encode(bytes(range(20))).decode()
    assert found.found_in(f"message=seed {seed_b32.lower()}") == [f"seed: {seed_b32.lower()!r}"]
    assert found.found_in(f"hex {bytes(range(20)).hex()}")
    assert found.found_in('"code 123456."')
    assert found.found_in("pid 91234567") == []  # a longer run of digits is not the code
