"""Health for load balancers: /healthz answers while the process does, /readyz while it can
serve (database, secret key, schema at head, not draining), naming what fails."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.support.phones import MOBILE
from twostep.adapters.storage import migrate
from twostep.adapters.storage.readiness import schema_head
from twostep.bootstrap import App
from twostep.config import Config

pytestmark = pytest.mark.usefixtures("backend")


def test_healthz_and_its_former_name_need_no_key(client: TestClient) -> None:
    for path in ("/healthz", "/health"):
        r = client.get(path)
        assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_ready_names_every_check_and_no_secret(client: TestClient, config: Config) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "ready",
        "checks": {"database": "ok", "schema": "ok", "secret_key": "ok"},
    }
    assert config.storage.secret_key is not None
    assert config.storage.secret_key.get_secret_value() not in r.text


def test_the_head_is_alembics_head() -> None:
    assert schema_head() == ScriptDirectory.from_config(migrate._config()).get_current_head()


@pytest.fixture
def behind(app: App) -> Iterator[str]:
    """The database one migration behind the code (put back afterwards: the PostgreSQL
    database is shared by the tests)."""
    head = schema_head()
    with app.storage.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001_initial_schema'"))
    yield head
    with app.storage.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})


def test_a_schema_behind_the_code_is_not_ready(client: TestClient, behind: str) -> None:
    r = client.get("/readyz")
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    body = r.json()
    assert body["failing"] == ["schema"] and body["status"] == "not_ready"
    assert body["checks"]["schema"] == f"at 0001_initial_schema, head is {behind}"
    assert body["error"] == {"code": "not_ready", "message": "not ready: schema"}


def test_a_draining_server_is_not_ready_at_once(client: TestClient) -> None:
    client.app.state.draining.start()  # type: ignore[attr-defined]
    started = time.monotonic()
    r = client.get("/readyz")
    assert r.status_code == 503 and time.monotonic() - started < 1
    assert r.json()["failing"] == ["draining"]
    assert client.get("/healthz").status_code == 200  # the process still answers


def test_draining_answers_a_long_poll_with_its_current_state(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
    r = client.post(
        "/v1/tenants/default/users/alice/methods",
        json={"kind": "sms", "phone": MOBILE},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    tx = client.post("/v1/validate", json={"user": "alice"}, headers=integration_key).json()[
        "transaction_id"
    ]
    outcome: dict[str, Any] = {}

    def wait() -> None:
        started = time.monotonic()
        r = client.get(f"/v1/validate/{tx}?wait=30", headers=integration_key)
        outcome.update(status=r.status_code, body=r.json(), took=time.monotonic() - started)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.5)  # the long-poll is waiting
    client.app.state.draining.start()  # type: ignore[attr-defined]
    waiter.join(timeout=30)
    assert outcome["status"] == 200 and outcome["took"] < 3
    assert outcome["body"]["result"] == "challenge" and outcome["body"]["transaction_id"] == tx
    # A later long-poll on this draining server answers at once too.
    started = time.monotonic()
    r = client.get(f"/v1/validate/{tx}?wait=30", headers=integration_key)
    assert r.json()["result"] == "challenge" and time.monotonic() - started < 2
