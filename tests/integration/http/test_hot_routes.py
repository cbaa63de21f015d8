"""The hot routes (interfaces/http/hot_routes.py) answer the common validation and the
probes ahead of FastAPI's routes, and hand everything else to those routes, which answer it
as they always have (the other tests of this package hold those answers)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from twostep.interfaces.http import hot_routes
from twostep.interfaces.http.routers import validate

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def decided(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The bodies the hot validate route decided itself."""
    seen: list[Any] = []

    async def spy(app: Any, credentials: Any, body: Any) -> Any:
        seen.append(body)
        return await validate.decide(app, credentials, body)

    monkeypatch.setattr(hot_routes, "decide", spy)
    return seen


def test_they_come_first_and_outside_the_description(client: TestClient) -> None:
    first = client.app.router.routes[:4]
    assert [type(r).__name__ for r in first] == ["Validate", "Probe", "Probe", "Probe"]
    assert [r.path for r in first] == ["/v1/validate", "/healthz", "/readyz", "/health"]
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/validate" in paths and list(paths).index("/healthz") > 0


def test_a_json_sign_in_is_decided_by_the_hot_route(
    client: TestClient, integration_key: dict[str, str], decided: list[Any]
) -> None:
    headers = {**integration_key, "Content-Type": "application/json; charset=utf-8"}
    r = client.post(
        "/v1/validate", content=b'{"user": "nobody", "code": "123456"}', headers=headers
    )
    assert (r.status_code, r.json()["result"]) == (200, "reject"), r.text
    assert len(decided) == 1
    r = client.post(
        "/v1/validate", json={"user": "nobody", "code": "1"}, headers={"X-Request-ID": "x"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthenticated")
    assert r.headers["X-Request-ID"] == "x" and len(decided) == 2


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{", "application/json", 400, "malformed_json"),
        (b'{"user": "a\\u0001"}', "application/json", 422, "invalid_request"),
        (b'{"user": "a", "more": 1}', "application/json", 422, "invalid_request"),
        (b'{"user": "a"}', "text/plain", 422, "invalid_request"),
        (b"", "application/json", 422, "invalid_request"),
    ],
)
def test_anything_else_is_answered_by_the_fastapi_route(
    client: TestClient,
    integration_key: dict[str, str],
    decided: list[Any],
    content: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    headers = {**integration_key, "Content-Type": content_type}
    r = client.post("/v1/validate", content=content, headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert decided == []
