"""GET /metrics: behind the metrics token (404 without one configured), parsed with
prometheus_client's own parser, and its counts move as sign-ins, lockouts, challenges and
deliveries happen, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.metrics import TOKEN, Scrape, bearer, parse
from tests.support.phones import MOBILE, code_of
from tests.support.postgres import free_port
from twostep.adapters.metrics import PrometheusMetrics
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")

VALIDATIONS = "twostep_validations_total"


@pytest.fixture
def counted(config: Config, clock: FakeClock) -> Iterator[App]:
    """The app as `serve` wires it when a metrics token is set."""
    server = config.server.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    wired = build(
        config.model_copy(update={"server": server}), clock=clock, metrics=PrometheusMetrics()
    )
    wired.admin.ensure_default_tenant()
    yield wired
    wired.close()


@pytest.fixture
def scraper(counted: App) -> Iterator[TestClient]:
    with TestClient(create_app(counted), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def keys(counted: App) -> dict[str, dict[str, str]]:
    admin = counted.admin.bootstrap_admin_key()
    _integration, key = counted.admin.create_integration(OPERATOR, "default", "web")
    return {"admin": {"Authorization": f"Bearer {admin}"}, "web": bearer(key)}


def _scrape(client: TestClient) -> Scrape:
    r = client.get("/metrics", headers=bearer())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    return parse(r.text)


def _validate(client: TestClient, key: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post("/v1/validate", json=body, headers=key)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def test_without_a_metrics_token_the_route_is_not_there(client: TestClient) -> None:
    for headers in ({}, bearer()):
        r = client.get("/metrics", headers=headers)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer caf\u00e9".encode()},  # not ASCII: refused, never a 500
    ],
)
def test_a_scrape_without_the_token_is_refused(
    scraper: TestClient, headers: dict[str, Any]
) -> None:
    r = scraper.get("/metrics", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
    assert TOKEN not in r.text


def test_sign_ins_are_counted_by_result_reason_method_and_interface(
    counted: App, scraper: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    alice = builders.enrolled_user(counted)
    before = _scrape(scraper)
    assert before.value(VALIDATIONS) == 0
    code = alice.totp(counted.deps.clock.now())
    assert _validate(scraper, keys["web"], user="alice", code=code)["result"] == "accept"
    assert _validate(scraper, keys["web"], user="alice", code=code)["reason"] == "code_replayed"
    assert _validate(scraper, keys["web"], user="alice", code="000000")["result"] == "reject"

    after = _scrape(scraper)
    base = {"method": "app_code", "interface": "http"}
    assert after.value(VALIDATIONS, result="accept", reason="none", **base) == 1
    assert after.value(VALIDATIONS, result="reject", reason="code_replayed", **base) == 1
    assert after.value(VALIDATIONS, result="reject", reason="invalid_code", **base) == 1
    assert after.value(VALIDATIONS) == 3
    # Every validate call was timed; the scrapes themselves are not the validate API.
    seconds = "twostep_http_request_duration_seconds"
    assert after.value(f"{seconds}_count", route="validate") == 3
    assert after.value(f"{seconds}_bucket", route="validate", le="+Inf") == 3
    assert after.value(f"{seconds}_sum", route="validate") > 0
    # The pool: this process's connections, none left checked out between requests.
    assert after.value("twostep_db_pool_size") >= 1
    assert after.value("twostep_db_pool_checked_out") == 0


def test_a_lockout_is_counted_once_when_it_happens(
    counted: App, scraper: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    builders.enrolled_user(counted)
    r = scraper.patch(
        "/v1/tenants/default/settings", json={"max_failures": 3}, headers=keys["admin"]
    )
    assert r.status_code == 200, r.text
    for _ in range(5):
        _validate(scraper, keys["web"], user="alice", code="000000")
    scrape = _scrape(scraper)
    assert scrape.value("twostep_lockouts_total", cause="failures") == 1
    assert scrape.value("twostep_lockouts_total") == 1
    assert scrape.value(VALIDATIONS, reason="invalid_code") == 3
    assert scrape.value(VALIDATIONS, reason="user_locked") == 2


def test_a_text_challenge_its_delivery_and_its_answer(
    counted: App, scraper: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    builders.user(counted, "alice")
    r = scraper.post(
        "/v1/tenants/default/users/alice/methods",
        json={"kind": "sms", "phone": MOBILE},
        headers=keys["admin"],
    )
    assert r.status_code == 201, r.text
    started = _validate(scraper, keys["web"], user="alice")
    assert started["result"] == "challenge"
    pending = _scrape(scraper)
    assert pending.value("twostep_pending_challenges", method="sms") == 1
    assert pending.value("twostep_pending_challenges") == 1
    assert pending.value("twostep_deliveries_total", gateway="outbox", channel="sms") == 1
    assert pending.value(VALIDATIONS, result="challenge", method="sms") == 1

    tx = started["transaction_id"]
    r = scraper.post(f"/v1/validate/{tx}", json={"code": code_of(counted, tx)}, headers=keys["web"])
    assert r.json()["result"] == "accept", r.text
    answered = _scrape(scraper)
    assert answered.value("twostep_pending_challenges") == 0
    assert answered.value(VALIDATIONS, result="accept", method="sms") == 1
    seconds = "twostep_http_request_duration_seconds_count"
    assert answered.value(seconds, route="challenge_answer") == 1
    assert answered.value(seconds, route="validate") == 1


def test_a_gateway_that_fails_is_counted_and_the_next_one_delivers(
    counted: App, scraper: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    closed = free_port()  # nothing listens there: the relay refuses the connection
    for name, kind, settings in (
        (
            "mail",
            "smtp",
            {
                "host": "127.0.0.1",
                "port": closed,
                "security": "none",
                "mode": "email",
                "from_address": "Twostep <mfa@example.com>",
            },
        ),
        ("dev", "outbox", {"path": "dev-outbox.jsonl"}),
    ):
        r = scraper.post(
            "/v1/tenants/default/gateways",
            json={"name": name, "kind": kind, "settings": settings},
            headers=keys["admin"],
        )
        assert r.status_code == 201, r.text
    builders.user(counted, "alice")
    method = {"kind": "email", "email": "alice@example.com"}
    r = scraper.post("/v1/tenants/default/users/alice/methods", json=method, headers=keys["admin"])
    assert r.status_code == 201, r.text
    assert _validate(scraper, keys["web"], user="alice")["result"] == "challenge"
    scrape = _scrape(scraper)
    assert scrape.value("twostep_delivery_failures_total", gateway="smtp", channel="email") == 1
    assert scrape.value("twostep_deliveries_total", gateway="outbox", channel="email") == 1
    assert scrape.value("twostep_deliveries_total", gateway="smtp") == 0
