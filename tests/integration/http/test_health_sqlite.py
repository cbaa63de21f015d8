"""/readyz on a broken SQLite database. SQLite only: its file can be broken under a running
server, while the suite's PostgreSQL server is shared by the other tests."""

from __future__ import annotations

from fastapi.testclient import TestClient

from twostep.bootstrap import App
from twostep.config import Config


def test_a_database_that_does_not_answer_is_not_ready(
    app: App, client: TestClient, config: Config
) -> None:
    app.storage.engine.dispose()
    path = config.storage.database_url.removeprefix("sqlite:///")
    with open(path, "r+b") as db:  # written over on purpose
        db.write(b"this is no longer a database" * 100)
    r = client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["failing"] == ["database", "schema"]
    assert body["checks"]["database"] == "no answer (DatabaseError)"
    assert body["checks"]["secret_key"] == "ok"
