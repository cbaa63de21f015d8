"""The hosted sign-in's admin API (return URLs, the signing secret) and the redeem call."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.clients import signin
from twostep.domain.results import Decision, Result

BASE = "/v1/tenants/default/integrations"
CALLBACK = "https://app.example.com/cb"


def test_return_urls_and_the_signing_secret(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    shown = client.get(f"{BASE}/web/signin", headers=admin)
    assert shown.status_code == 200, shown.text
    assert shown.json()["return_urls"] == [] and shown.json()["secret_issued_at"] is None
    urls = client.put(
        f"{BASE}/web/signin/return-urls",
        json={"return_urls": ["https://App.example.com:443/cb", "http://127.0.0.1:9000/cb"]},
        headers=admin,
    )
    assert urls.status_code == 200, urls.text
    assert urls.json()["return_urls"] == [CALLBACK, "http://127.0.0.1:9000/cb"]
    issued = client.post(f"{BASE}/web/signin/secret", headers=admin)
    assert issued.status_code == 201, issued.text
    secret = issued.json()["secret"]
    assert secret.startswith("tss_") and issued.json()["secret_issued_at"] is not None
    again = client.get(f"{BASE}/web/signin", headers=admin).json()
    assert "secret" not in again and again["key_id"] == issued.json()["key_id"]
    rotated = client.post(f"{BASE}/web/signin/secret", headers=admin).json()["secret"]
    assert rotated != secret
    trail = client.get("/v1/tenants/default/admin-events", headers=admin).json()
    assert secret not in str(trail) and rotated not in str(trail)


def test_bad_return_urls_and_unknown_integrations(
    client: TestClient, admin: dict[str, str], integration_key: dict[str, str]
) -> None:
    for body in (
        {"return_urls": ["http://app.example.com/cb"]},
        {"return_urls": ["https://app.example.com/cb?x=1"]},
        {"return_urls": ["x" * 3000]},
        {"return_urls": [CALLBACK] * 21},
        {"return_urls": "https://app.example.com/cb"},
        {},
    ):
        answer = client.put(f"{BASE}/web/signin/return-urls", json=body, headers=admin)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["code"] == "invalid_request"
    missing = client.post(f"{BASE}/nope/signin/secret", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "integration_not_found"
    assert client.post(f"{BASE}/web/signin/secret", headers=integration_key).status_code == 401


def test_redeem(
    app: App,
    client: TestClient,
    admin: dict[str, str],
    integration_key: dict[str, str],
    clock: FakeClock,
) -> None:
    client.put(f"{BASE}/web/signin/return-urls", json={"return_urls": [CALLBACK]}, headers=admin)
    issued = client.post(f"{BASE}/web/signin/secret", headers=admin).json()
    url = signin.make_request(
        "http://127.0.0.1",
        key_id=issued["key_id"],
        secret=issued["secret"],
        user="alice",
        redirect_uri=CALLBACK,
        state="s",
        now=clock.now(),
    )
    request = app.hosted_signin.open(url.split("request=")[1])
    jti = app.hosted_signin.issue(request, Decision(Result.REJECT), None).jti
    path = f"/v1/signin/results/{jti}/redeem"
    assert client.post(path).status_code == 401
    assert client.post(path, headers=admin).status_code == 401  # an admin key is no integration
    first = client.post(path, headers=integration_key)
    assert first.status_code == 200 and first.json() == {"jti": jti, "redeemed": True}
    second = client.post(path, headers=integration_key)
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "signin_result_redeemed"
    for unknown in ("nope", "x" * 129):
        answer = client.post(f"/v1/signin/results/{unknown}/redeem", headers=integration_key)
        assert answer.status_code in (404, 422), answer.text
        assert answer.json()["error"]["code"] in ("signin_result_not_found", "invalid_request")
