"""A code accepted once is rejected afterwards, also when two server processes on one
database receive it at the same moment: 50 rounds of 100 parallel submissions."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.servers import serving
from twostep.bootstrap import build
from twostep.config import Config
from twostep.domain.entities import OtpParams, OtpType
from twostep.domain.ports.users import NewUser
from twostep.factors import otp
from twostep.services.admin import OPERATOR
from twostep.services.enroll import TokenSpec

ROUNDS = 50
PARALLEL = 100

pytestmark = pytest.mark.slow


async def _round(clients: list[httpx.AsyncClient], key: str, user: str, code: str) -> Counter[str]:
    async def submit(i: int) -> str:
        r = await clients[i % len(clients)].post(
            "/v1/validate",
            json={"user": user, "code": code},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        return f"{body['result']}:{body['reason']}"

    return Counter(await asyncio.gather(*(submit(i) for i in range(PARALLEL))))


def _code(seed: bytes, params: OtpParams) -> str:
    """The token's current code: HOTP counter 0, or TOTP's step now (taken per round,
    so a slow run does not drift out of the window)."""
    moment = otp.time_step(time.time(), 30) if params.type is OtpType.TOTP else 0
    return otp.hotp(seed, params, moment)


async def _all_rounds(
    urls: list[str], key: str, tokens: list[tuple[str, bytes, OtpParams]]
) -> list[Counter[str]]:
    limits = httpx.Limits(max_connections=PARALLEL)
    clients = [httpx.AsyncClient(base_url=u, limits=limits, timeout=60) for u in urls]
    try:
        return [await _round(clients, key, user, _code(seed, p)) for user, seed, p in tokens]
    finally:
        for client in clients:
            await client.aclose()


def test_exactly_one_accept_per_round(backend: str, config: Config, tmp_path: Path) -> None:
    env = {
        "TWOSTEP_HOME": str(config.storage.home),
        "TWOSTEP_DATABASE_URL": config.storage.database_url,
        "TWOSTEP_SECRET_KEY": config.storage.secret_key.get_secret_value(),
    }
    app = build(config, upgrade=True)
    app.admin.ensure_default_tenant()
    app.admin.update_settings(OPERATOR, "default", {"max_failures": 100})
    _integration, key = app.admin.create_integration(OPERATOR, "default", "race")
    tokens: list[tuple[str, bytes, OtpParams]] = []
    for i in range(ROUNDS):
        user = f"user{i}"
        # Alternate TOTP (claimed by time step) and HOTP (claimed by counter).
        params = OtpParams(type=OtpType.TOTP if i % 2 else OtpType.HOTP)
        seed = secrets.token_bytes(20)
        app.admin.create_user(OPERATOR, "default", NewUser(user))
        app.enroll.enroll_oath_token(
            OPERATOR, "default", user, TokenSpec(f"S{i}", "hex:" + seed.hex(), params)
        )
        tokens.append((user, seed, params))
    app.close()

    with serving(env, count=2) as urls:
        outcomes = asyncio.run(_all_rounds(urls, key, tokens))

    for (user, _seed, _params), outcome in zip(tokens, outcomes, strict=True):
        assert outcome["accept:None"] == 1, (user, outcome)
        assert sum(outcome.values()) == PARALLEL
        assert set(outcome) <= {"accept:None", "reject:code_replayed", "reject:invalid_code"}
