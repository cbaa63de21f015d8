"""A hosted sign-in result is redeemed exactly once, also when two server processes on one
database receive its redeem at the same moment; the helper's ``redeem`` (plain urllib)
speaks to a real server and raises the server's codes."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support import builders
from tests.support.servers import serving
from twostep.bootstrap import build
from twostep.clients import signin
from twostep.config import Config
from twostep.domain.results import Decision, Result
from twostep.services.admin import OPERATOR

ROUNDS = 20
PARALLEL = 40
CALLBACK = "https://app.example.com/cb"

pytestmark = pytest.mark.slow


async def _redeem_at_once(urls: list[str], key: str, jtis: list[str]) -> list[Counter[int]]:
    limits = httpx.Limits(max_connections=PARALLEL)
    clients = [httpx.AsyncClient(base_url=u, limits=limits, timeout=60) for u in urls]
    headers = {"Authorization": f"Bearer {key}"}

    async def one(i: int, jti: str) -> int:
        answer = await clients[i % len(clients)].post(
            f"/v1/signin/results/{jti}/redeem", headers=headers
        )
        return answer.status_code

    try:
        return [
            Counter(await asyncio.gather(*(one(i, jti) for i in range(PARALLEL)))) for jti in jtis
        ]
    finally:
        for client in clients:
            await client.aclose()


def test_exactly_one_redeem_per_result(backend: str, config: Config, tmp_path: Path) -> None:
    env = {
        "TWOSTEP_HOME": str(config.storage.home),
        "TWOSTEP_DATABASE_URL": config.storage.database_url,
        "TWOSTEP_SECRET_KEY": config.storage.secret_key.get_secret_value(),
    }
    app = build(config, upgrade=True)  # the real clock: the servers' results must agree
    app.admin.ensure_default_tenant()
    integration, key = builders.integration(app, "web")
    app.hosted_signin.set_return_urls(OPERATOR, "default", "web", [CALLBACK])
    _config, secret = app.hosted_signin.issue_secret(OPERATOR, "default", "web")
    builders.user(app, "alice")
    jtis = []
    for i in range(ROUNDS + 1):
        url = signin.make_request(
            "http://127.0.0.1",
            key_id=integration.key_id,
            secret=secret,
            user="alice",
            redirect_uri=CALLBACK,
            state=f"s{i}",
        )
        request = app.hosted_signin.open(url.split("request=")[1])
        issued = app.hosted_signin.issue(request, Decision(Result.ACCEPT), "app_code")
        jtis.append(issued.jti)
    app.close()

    with serving(env, count=2) as urls:
        outcomes = asyncio.run(_redeem_at_once(urls, key, jtis[:ROUNDS]))
        last = jtis[ROUNDS]
        signin.redeem(urls[0], integration_key=key, jti=last, timeout=10)
        with pytest.raises(signin.RedeemError) as again:
            signin.redeem(urls[1], integration_key=key, jti=last, timeout=10)
        with pytest.raises(signin.RedeemError) as unknown:
            signin.redeem(urls[0], integration_key=key, jti="no-such-result", timeout=10)
        with pytest.raises(signin.RedeemError) as stranger:
            signin.redeem(urls[0], integration_key="tsi_wrong", jti=last, timeout=10)

    for outcome in outcomes:
        assert outcome == Counter({200: 1, 409: PARALLEL - 1}), outcome
    assert (again.value.code, again.value.status) == ("signin_result_redeemed", 409)
    assert (unknown.value.code, unknown.value.status) == ("signin_result_not_found", 404)
    assert (stranger.value.code, stranger.value.status) == ("unauthenticated", 401)
