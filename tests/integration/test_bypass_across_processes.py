"""A one-time bypass is used by exactly one sign-in, also when two server processes on one
database receive many sign-ins of the bypassed user at the same instant: each round sends
PARALLEL validations of one user at once, split over both nodes, and counts the answers and
the audit events."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from tests.support import builders
from tests.support.races import RawRequest, at_once
from tests.support.servers import serving
from twostep.bootstrap import build
from twostep.config import Config
from twostep.services.admin import OPERATOR

ROUNDS = 6
PARALLEL = 24

pytestmark = pytest.mark.slow


async def _rounds(urls: list[str], key: str, users: list[str]) -> list[Counter[str]]:
    headers = {"authorization": f"Bearer {key}"}
    found = []
    for user in users:
        sends = [
            (urls[i % len(urls)], RawRequest.json("POST", "/v1/validate", {"user": user}, headers))
            for i in range(PARALLEL)
        ]
        answers = await at_once(sends)
        assert all(a.status == 200 for a in answers), [a.text for a in answers]
        found.append(Counter(f"{a.json()['result']}:{a.json()['reason']}" for a in answers))
    return found


def test_exactly_one_sign_in_uses_each_bypass(backend: str, config: Config, tmp_path: Path) -> None:
    env = {
        "TWOSTEP_HOME": str(config.storage.home),
        "TWOSTEP_DATABASE_URL": config.storage.database_url,
        "TWOSTEP_SECRET_KEY": config.storage.secret_key.get_secret_value(),
    }
    app = build(config, upgrade=True)  # the real clock: the servers' windows must agree
    app.admin.ensure_default_tenant()
    _integration, key = builders.integration(app, "race")
    users = [f"user{i}" for i in range(ROUNDS)]
    for user in users:
        builders.user(app, user)
        builders.app_code(app, user)
        app.bypasses.grant(OPERATOR, "default", user, 1800)
    app.close()

    with serving(env, count=2) as urls:
        outcomes = asyncio.run(_rounds(urls, key, users))

    for user, outcome in zip(users, outcomes, strict=True):
        assert outcome == Counter({"accept:bypass": 1, "reject:code_required": PARALLEL - 1}), (
            user,
            outcome,
        )
    app = build(config)
    try:
        events = app.audit.query(OPERATOR, "default", limit=1000)
        used = Counter(e.user for e in events if e.reason == "bypass")
        assert used == Counter(dict.fromkeys(users, 1))
        assert all(
            e.result == "accept" and e.method is None for e in events if e.reason == "bypass"
        )
        for user in users:
            assert app.admin.get_user(OPERATOR, "default", user).bypass_until is None
    finally:
        app.close()
