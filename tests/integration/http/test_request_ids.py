"""X-Request-ID: taken from the caller when it is short printable ASCII, made otherwise,
answered back, and carried into the request's log lines and its audit event (on both
databases), where the audit API and `twostep audit` find it."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.logs import captured
from tests.support.phones import MOBILE
from twostep.bootstrap import App
from twostep.interfaces.http.app import create_app

pytestmark = pytest.mark.usefixtures("backend")

MADE = re.compile(r"[0-9a-f]{32}")


def _events(client: TestClient, admin: dict[str, str], **query: str) -> list[dict[str, Any]]:
    r = client.get("/v1/tenants/default/audit", params=query, headers=admin)
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


def test_a_sent_id_is_answered_and_recorded_in_the_audit_event(
    app: App, client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    alice = builders.enrolled_user(app)
    code = alice.totp(app.deps.clock.now())
    sent = "lb-7f3a 2026/12/05 #1"
    r = client.post(
        "/v1/validate",
        json={"user": "alice", "code": code},
        headers={**integration_key, "X-Request-ID": sent},
    )
    assert r.json()["result"] == "accept"
    assert r.headers["x-request-id"] == sent
    r = client.post("/v1/validate", json={"user": "alice", "code": code}, headers=integration_key)
    other = r.headers["x-request-id"]
    assert MADE.fullmatch(other)

    events = _events(client, admin)
    assert [(e["result"], e["request_id"]) for e in events] == [
        ("accept", sent),
        ("reject", other),
    ]
    # The audit search finds a sign-in by its id, and finds nothing for another.
    assert [e["result"] for e in _events(client, admin, request_id=sent)] == ["accept"]
    assert _events(client, admin, request_id="no-such-request") == []
    r = client.get("/v1/tenants/default/audit", headers={**admin, "Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["request_id"] for row in rows] == [sent, other]


@pytest.mark.parametrize(
    "sent",
    [
        "x" * 129,  # too long
        "tab\there",  # a control character
        "caf\u00e9",  # past ASCII
        "",
    ],
)
def test_an_unusable_id_is_replaced_by_a_new_one(client: TestClient, sent: str) -> None:
    r = client.get("/health", headers={"X-Request-ID": sent.encode("latin-1")})  # type: ignore[dict-item]
    assert r.status_code == 200
    assert MADE.fullmatch(r.headers["x-request-id"])


def test_every_answer_has_one_id_even_an_error(
    client: TestClient, integration_key: dict[str, str]
) -> None:
    r = client.get("/health")
    assert MADE.fullmatch(r.headers["x-request-id"])
    assert r.headers.get_list("x-request-id") == [r.headers["x-request-id"]]
    r = client.post("/v1/validate", json={"user": "a"}, headers={"X-Request-ID": "mine"})
    assert r.status_code == 401 and r.headers["x-request-id"] == "mine"
    r = client.post("/v1/validate", content=b"{", headers={**integration_key, "X-Request-ID": "b"})
    assert r.status_code == 422 and r.headers["x-request-id"] == "b"
    ids = {client.get("/health").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_the_log_lines_of_a_request_carry_its_id(
    app: App,
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
) -> None:
    builders.user(app, "alice")
    r = client.post(
        "/v1/tenants/default/users/alice/methods",
        json={"kind": "sms", "phone": MOBILE},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    with captured() as logs:
        r = client.post(
            "/v1/validate",
            json={"user": "alice"},
            headers={**integration_key, "X-Request-ID": "sms-1"},
        )
    assert r.json()["result"] == "challenge"
    lines = logs.lines()
    sent = [x for x in lines if x["message"].startswith("outbox: sms")]
    assert sent, lines
    assert {x.get("request_id") for x in lines} == {"sms-1"}
    assert {x["node"] for x in lines} == {"node-a"}
    events = _events(client, admin, request_id="sms-1")
    assert [(e["method"], e["result"]) for e in events] == [("sms", "challenge")]


def test_an_unexpected_error_is_logged_and_answered_with_the_id(app: App) -> None:
    api = create_app(app)

    @api.get("/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    with (
        TestClient(api, raise_server_exceptions=False) as client,
        captured() as logs,
    ):
        r = client.get("/broken", headers={"X-Request-ID": "bug-1"})
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert r.headers["x-request-id"] == "bug-1"
    [line] = [x for x in logs.lines() if x["message"] == "unexpected error"]
    assert line["request_id"] == "bug-1" and line["level"] == "ERROR"
    assert "RuntimeError: a bug" in line["exception"]
