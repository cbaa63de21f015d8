"""Phone sign-ins through a tenant's Twilio gateway, end to end over the HTTP API.

Twilio's own Python library (inside our adapter) talks to a loopback server that speaks
Twilio's REST API; Twilio's side of the webhooks is played by posting form-encoded,
``X-Twilio-Signature``-signed requests to our endpoints, signed with Twilio's own
``RequestValidator`` for exactly the URL Twilio would have been given.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from tests.support.fake_twilio import (
    ACCOUNT,
    CALL_SID,
    SID,
    TOKEN,
    Answer,
    Recorded,
    Recorder,
    basic_auth,
    serving,
    twilio_api,
    twilio_error,
)
from tests.support.phones import MOBILE, outbox
from tests.support.postgres import free_port
from twostep.bootstrap import App

pytestmark = pytest.mark.usefixtures("backend")

PUBLIC_URL = "http://127.0.0.1:8080"  # the app's public URL when none is configured
FROM = "+14155550100"  # the gateway's number
Json = dict[str, Any]


# -- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def twilio() -> Iterator[Recorder]:
    """A loopback server answering as Twilio's REST API does."""
    with serving(Recorder(answer=twilio_api)) as api:
        yield api


@pytest.fixture
def answers(client: TestClient) -> list[str]:
    """Every answer the API gives in the test, to show the auth token is in none of them."""
    seen: list[str] = []

    def keep(response: httpx.Response) -> None:
        seen.append(response.read().decode("utf-8", "replace"))

    client.event_hooks = {"request": [], "response": [keep]}
    return seen


def token_hidden(answers: list[str]) -> bool:
    assert answers, "no answers were recorded"
    return not any(TOKEN in answer for answer in answers)


def add_twilio(
    client: TestClient,
    admin: dict[str, str],
    api_base: str,
    *,
    name: str = "twilio",
    position: int | None = None,
    **more: Any,
) -> Json:
    settings = {
        "account_sid": SID,
        "auth_token": TOKEN,
        "from_number": FROM,
        "api_base": api_base,
    } | more
    body: Json = {"name": name, "kind": "twilio", "settings": settings}
    if position is not None:
        body["position"] = position
    r = client.post("/v1/tenants/default/gateways", json=body, headers=admin)
    assert r.status_code == 201, r.text
    made: Json = r.json()
    assert made["credentials"] == ["auth_token"] and "auth_token" not in made["settings"]
    return made


def register(client: TestClient, admin: dict[str, str], kind: str) -> None:
    r = client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    assert r.status_code == 201, r.text
    r = client.post(
        "/v1/tenants/default/users/alice/methods",
        json={"kind": kind, "phone": MOBILE},
        headers=admin,
    )
    assert r.status_code == 201, r.text


def validate(client: TestClient, key: dict[str, str]) -> Json:
    r = client.post("/v1/validate", json={"user": "alice"}, headers=key)
    assert r.status_code == 200, r.text
    body: Json = r.json()
    return body


def started(client: TestClient, key: dict[str, str]) -> str:
    answer = validate(client, key)
    assert answer["result"] == "challenge", answer
    tx: str = answer["transaction_id"]
    return tx


def outcome(client: TestClient, key: dict[str, str], tx: str) -> tuple[str, str | None]:
    r = client.get(f"/v1/validate/{tx}", headers=key)
    assert r.status_code == 200, r.text
    return r.json()["result"], r.json()["reason"]


def audit(client: TestClient, admin: dict[str, str]) -> list[Json]:
    r = client.get("/v1/tenants/default/audit", headers=admin)
    assert r.status_code == 200, r.text
    events: list[Json] = r.json()["events"]  # oldest first
    return events


def code_in(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match, f"no 6-digit code in {text!r}"
    return match.group(1)


def only(api: Recorder, resource: str) -> Recorded:
    """The one request the fake Twilio got, checked to be an authenticated create."""
    (request,) = api.requests
    assert (request.method, request.path) == ("POST", f"{ACCOUNT}/{resource}")
    assert request.headers["authorization"] == basic_auth()
    assert "twilio-python" in request.headers["user-agent"]  # Twilio's own library spoke
    return request


def post_signed(
    client: TestClient, url: str, params: dict[str, str], *, token: str = TOKEN, at: str = ""
) -> httpx.Response:
    """Post ``params`` as Twilio does, signed for ``url``, to ``at`` (default ``url``)."""
    signature = RequestValidator(token).compute_signature(url, params)
    target = at or url
    assert target.startswith(PUBLIC_URL + "/"), target
    return client.post(
        target.removeprefix(PUBLIC_URL), data=params, headers={"X-Twilio-Signature": signature}
    )


def error_code(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def inbound_sms(body: str) -> dict[str, str]:
    """The form of Twilio's incoming-message webhook."""
    sid = "SM" + "c" * 32
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": FROM,
        "ToZip": "94105",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": SID,
        "From": MOBILE,
        "ApiVersion": "2010-04-01",
    }


def _call(status: str) -> dict[str, str]:
    return {
        "AccountSid": SID,
        "ApiVersion": "2010-04-01",
        "CallSid": CALL_SID,
        "CallStatus": status,
        "Called": MOBILE,
        "Caller": FROM,
        "Direction": "outbound-api",
        "From": FROM,
        "To": MOBILE,
    }


def gathered(digits: str) -> dict[str, str]:
    """The form of the <Gather> action callback (Twilio leaves the finish key out)."""
    return _call("in-progress") | {"Digits": digits, "FinishedOnKey": "#", "msg": "Gather End"}


def call_status(status: str) -> dict[str, str]:
    """The form of the call's status callback."""
    return _call(status) | {
        "CallDuration": "0",
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "0",
        "Timestamp": "Thu, 01 Jan 2026 00:00:30 +0000",
    }


def twiml_said(r: httpx.Response) -> str:
    """What our TwiML answer says before it hangs up."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    twiml = ElementTree.fromstring(r.content)
    assert twiml.tag == "Response"
    assert [child.tag for child in twiml] == ["Say", "Hangup"]
    say = twiml.find("Say")
    assert say is not None and say.text
    return str(say.text)


def placed_call(api: Recorder, gateway: Json, tx: str) -> tuple[str, str]:
    """Check the call Twilio was asked to place; its gather action and status URLs."""
    form = only(api, "Calls.json").form()
    assert (form["To"], form["From"]) == (MOBILE, FROM)
    twiml = ElementTree.fromstring(form["Twiml"])
    gather = twiml.find("Gather")
    assert gather is not None
    assert gather.attrib["finishOnKey"] == "#"
    assert gather.attrib["method"] == "POST"
    action = gather.attrib["action"]
    assert action == f"{PUBLIC_URL}/v1/gateways/{gateway['id']}/calls?ref={tx}"
    assert action.startswith(gateway["calls_url"] + "?")
    assert form["StatusCallbackMethod"] == "POST"
    return action, form["StatusCallback"]


# -- one-way SMS -------------------------------------------------------------------------


def test_a_one_way_sms_is_sent_through_twilio_and_its_code_accepted(
    caplog: pytest.LogCaptureFixture,
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    twilio: Recorder,
    answers: list[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    register(client, admin, "sms")
    add_twilio(client, admin, twilio.url)
    listed = client.get("/v1/tenants/default/gateways", headers=admin).json()
    assert [(g["name"], g["credentials"]) for g in listed] == [("twilio", ["auth_token"])]

    tx = started(client, integration_key)

    form = only(twilio, "Messages.json").form()
    assert (form["To"], form["From"]) == (MOBILE, FROM)
    code = code_in(form["Body"])
    r = client.post(f"/v1/validate/{tx}", json={"code": code}, headers=integration_key)
    assert (r.json()["result"], r.json()["reason"]) == ("accept", None)
    assert outcome(client, integration_key, tx) == ("accept", None)
    challenge_event, accept_event = audit(client, admin)[-2:]
    assert (challenge_event["result"], challenge_event["detail"]) == ("challenge", "sent by twilio")
    assert (accept_event["result"], accept_event["method"]) == ("accept", "sms")
    assert len(twilio.requests) == 1
    assert token_hidden(answers)
    assert TOKEN not in caplog.text and code not in caplog.text  # Twilio's library logs too


# -- two-way SMS -------------------------------------------------------------------------


def test_a_reply_through_twilios_signed_webhook_finishes_a_two_way_sms(
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    twilio: Recorder,
    answers: list[str],
) -> None:
    register(client, admin, "sms_reply")
    gateway = add_twilio(client, admin, twilio.url)
    inbound = gateway["inbound_url"]
    assert inbound == f"{PUBLIC_URL}/v1/gateways/{gateway['id']}/inbound"

    tx = started(client, integration_key)

    form = only(twilio, "Messages.json").form()
    assert form["To"] == MOBILE and "reply" in form["Body"]
    reply = inbound_sms(code_in(form["Body"]))
    forgeries = [
        post_signed(client, inbound, reply, token="not-the-auth-token"),
        post_signed(client, inbound.replace("/inbound", "/other"), reply, at=inbound),
        client.post(inbound.removeprefix(PUBLIC_URL), data=reply),  # unsigned
    ]
    for r in forgeries:
        assert error_code(r) == (403, "webhook_refused")
    assert outcome(client, integration_key, tx) == ("challenge", None)

    r = post_signed(client, inbound, reply)
    assert r.status_code == 204, r.text
    assert outcome(client, integration_key, tx) == ("accept", None)
    assert audit(client, admin)[-1]["result"] == "accept"
    assert token_hidden(answers)


def test_a_tampered_reply_is_refused_and_the_transaction_stays_pending(
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    twilio: Recorder,
    answers: list[str],
) -> None:
    register(client, admin, "sms_reply")
    gateway = add_twilio(client, admin, twilio.url)
    tx = started(client, integration_key)
    reply = inbound_sms(code_in(only(twilio, "Messages.json").form()["Body"]))
    signature = RequestValidator(TOKEN).compute_signature(gateway["inbound_url"], reply)
    tampered = reply | {"From": "+14155550199"}  # signed for another sender
    r = client.post(
        gateway["inbound_url"].removeprefix(PUBLIC_URL),
        data=tampered,
        headers={"X-Twilio-Signature": signature},
    )
    assert error_code(r) == (403, "webhook_refused")
    assert outcome(client, integration_key, tx) == ("challenge", None)
    assert token_hidden(answers)


# -- voice -------------------------------------------------------------------------------


def test_pressing_pound_in_a_twilio_call_approves_the_sign_in(
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    twilio: Recorder,
    answers: list[str],
) -> None:
    register(client, admin, "voice")
    gateway = add_twilio(client, admin, twilio.url)
    tx = started(client, integration_key)
    action, status_url = placed_call(twilio, gateway, tx)
    assert status_url == action + "&status=1"

    said = twiml_said(post_signed(client, action, gathered("")))
    assert "approved" in said
    assert outcome(client, integration_key, tx) == ("accept", None)
    # Twilio reports the end of every call; a completed call keeps its approval.
    r = post_signed(client, status_url, call_status("completed"))
    assert r.status_code == 204, r.text
    assert outcome(client, integration_key, tx) == ("accept", None)
    assert token_hidden(answers)


def test_the_call_script_lets_a_lone_pound_reach_the_action_url(
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    twilio: Recorder,
) -> None:
    """Twilio: if the caller presses finishOnKey before any other key, it does not request
    the action URL unless the <Gather> has actionOnEmptyResult="true"."""
    register(client, admin, "voice")
    add_twilio(client, admin, twilio.url)
    started(client, integration_key)
    twiml = ElementTree.fromstring(only(twilio, "Calls.json").form()["Twiml"])
    gather = twiml.find("Gather")
    assert gather is not None
    assert gather.attrib.get("actionOnEmptyResult") == "true"


def test_answering_and_staying_silent_does_not_approve(
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    twilio: Recorder,
) -> None:
    """With actionOnEmptyResult, a gather that times out also posts an empty Digits, but
    without FinishedOnKey="#": that is no answer."""
    register(client, admin, "voice")
    gateway = add_twilio(client, admin, twilio.url)
    tx = started(client, integration_key)
    action, _status_url = placed_call(twilio, gateway, tx)
    silence = gathered("") | {"FinishedOnKey": ""}
    assert "denied" in twiml_said(post_signed(client, action, silence))
    assert outcome(client, integration_key, tx) == ("reject", "call_not_answered")


def test_a_fraud_report_in_a_twilio_call_rejects_and_locks_the_user(
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    twilio: Recorder,
    answers: list[str],
) -> None:
    register(client, admin, "voice")
    gateway = add_twilio(client, admin, twilio.url)
    tx = started(client, integration_key)
    action, _ = placed_call(twilio, gateway, tx)

    said = twiml_said(post_signed(client, action, gathered("0")))
    assert "administrator" in said
    assert outcome(client, integration_key, tx) == ("reject", "fraud_reported")
    user = client.get("/v1/tenants/default/users/alice", headers=admin).json()
    assert user["locked"] is True
    assert audit(client, admin)[-1]["reason"] == "fraud_reported"
    again = validate(client, integration_key)
    assert (again["result"], again["reason"]) == ("reject", "user_locked")
    assert len(twilio.requests) == 1  # a locked user is not called again
    assert token_hidden(answers)


def test_an_unanswered_twilio_call_rejects_and_forged_callbacks_change_nothing(
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    twilio: Recorder,
    answers: list[str],
) -> None:
    register(client, admin, "voice")
    gateway = add_twilio(client, admin, twilio.url)
    tx = started(client, integration_key)
    action, status_url = placed_call(twilio, gateway, tx)

    forgeries = [
        post_signed(client, action, gathered(""), token="not-the-auth-token"),
        # Signed for this call, replayed onto another transaction's URL.
        post_signed(client, action, gathered(""), at=action.replace(tx, tx[::-1])),
    ]
    for r in forgeries:
        assert error_code(r) == (403, "webhook_refused")
    assert outcome(client, integration_key, tx) == ("challenge", None)

    r = post_signed(client, status_url, call_status("no-answer"))
    assert r.status_code == 204, r.text
    assert outcome(client, integration_key, tx) == ("reject", "call_not_answered")
    assert token_hidden(answers)


# -- failover ----------------------------------------------------------------------------

FAILURES: dict[str, Callable[[Recorded], Answer] | None] = {
    "500": lambda _: (500, twilio_error(20500, "Internal Server Error", 500)),
    "error-json": lambda _: (429, twilio_error(20429, "Too Many Requests", 429)),
    "not-json": lambda _: (502, "<html><body>Bad Gateway</body></html>"),
    "timeout": lambda _: (201, {}),  # answered too late: see failing_twilio
    "down": None,
}


@contextmanager
def failing_twilio(mode: str) -> Iterator[tuple[str, dict[str, Any], Recorder | None]]:
    """A Twilio API that fails as ``mode`` says: its URL, extra settings, its recorder."""
    answer = FAILURES[mode]
    if answer is None:
        yield f"http://127.0.0.1:{free_port()}", {}, None
        return
    recorder = Recorder(answer=answer)
    more: dict[str, Any] = {}
    if mode == "timeout":
        recorder.delay, more = 5.0, {"timeout": 0.3}
    with serving(recorder) as api:
        yield api.url, more, api


@pytest.mark.parametrize("mode", list(FAILURES))
def test_a_failing_twilio_fails_over_to_the_outbox(
    app: App,
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    answers: list[str],
    mode: str,
) -> None:
    register(client, admin, "sms")
    with failing_twilio(mode) as (url, more, api):
        add_twilio(client, admin, url, name="twilio-primary", position=0, **more)
        r = client.post(
            "/v1/tenants/default/gateways",
            json={
                "name": "spare",
                "kind": "outbox",
                "settings": {"path": str(app.config.storage.home / "outbox.jsonl")},
                "position": 1,
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text

        tx = started(client, integration_key)

        if api is not None:
            assert only(api, "Messages.json").form()["To"] == MOBILE
    (written,) = [m for m in outbox(app) if m.get("reference") == tx]
    assert written["to"] == MOBILE
    r = client.post(
        f"/v1/validate/{tx}", json={"code": code_in(written["body"])}, headers=integration_key
    )
    assert r.json()["result"] == "accept"
    challenge_event = audit(client, admin)[-2]
    assert (challenge_event["result"], challenge_event["detail"]) == ("challenge", "sent by spare")
    assert token_hidden(answers)


@pytest.mark.parametrize("mode", list(FAILURES))
def test_when_the_only_twilio_fails_the_sign_in_is_rejected_and_audited(
    app: App,
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    answers: list[str],
    mode: str,
) -> None:
    register(client, admin, "sms")
    with failing_twilio(mode) as (url, more, _api):
        add_twilio(client, admin, url, name="twilio-primary", **more)
        answer = validate(client, integration_key)

    assert (answer["result"], answer["reason"]) == ("reject", "delivery_failed")
    if answer["transaction_id"] is not None:
        assert outcome(client, integration_key, answer["transaction_id"]) == (
            "reject",
            "delivery_failed",
        )
    event = audit(client, admin)[-1]
    assert (event["result"], event["reason"]) == ("reject", "delivery_failed")
    assert event["detail"].startswith("twilio-primary: twilio gateway twilio-primary: ")
    assert MOBILE not in event["detail"] and TOKEN not in event["detail"]
    assert outbox(app) == []  # a tenant with gateways never falls back to the built-in one
    assert token_hidden(answers)
