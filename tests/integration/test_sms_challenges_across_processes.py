"""1,000 text-message challenges started on one server process and finished on another
(the outbox gateway stands in for the provider): every one accepted exactly once, also
when both processes receive the code at the same moment; over-attempted, replayed and
expired codes rejected. The expiry is checked by a third node whose clock the test sets."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from tests.support.fakes import FakeClock
from tests.support.phones import outbox
from tests.support.servers import serving
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.audit import AuditEvent
from twostep.domain.entities import MethodKind
from twostep.domain.ports.users import NewUser
from twostep.domain.results import Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

CHALLENGES = 1000
SPENT = 20  # of them, also tried with wrong codes until the budget is spent
PARALLEL = 32

pytestmark = pytest.mark.slow


def _population(app: App) -> None:
    app.admin.ensure_default_tenant()
    app.admin.update_settings(OPERATOR, "default", {"tenant_delivery_limit": 10 * CHALLENGES})
    for i in range(CHALLENGES):
        user = f"user{i}"
        app.admin.create_user(OPERATOR, "default", NewUser(user))
        app.enroll.enroll_phone(OPERATOR, "default", user, MethodKind.SMS, f"+1415201{i:04d}")


def _clients(url: str, key: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=PARALLEL)
    auth = {"Authorization": f"Bearer {key}"}
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=60, headers=auth)


async def _start_all(url: str, key: str) -> list[str]:
    gate = asyncio.Semaphore(PARALLEL)
    async with _clients(url, key) as client:

        async def start(i: int) -> str:
            async with gate:
                r = await client.post("/v1/validate", json={"user": f"user{i}"})
            body = r.json()
            assert (r.status_code, body["result"]) == (200, "challenge"), r.text
            return str(body["transaction_id"])

        return list(await asyncio.gather(*(start(i) for i in range(CHALLENGES))))


async def _finish_all(first: str, second: str, key: str, codes: dict[str, str]) -> None:
    gate = asyncio.Semaphore(PARALLEL)
    async with _clients(first, key) as a, _clients(second, key) as b:

        async def submit(client: httpx.AsyncClient, tx: str, code: str) -> str:
            async with gate:
                r = await client.post(f"/v1/validate/{tx}", json={"code": code})
            assert r.status_code == 200, r.text
            return f"{r.json()['result']}:{r.json()['reason']}"

        transactions = list(codes)
        spent, rest = transactions[:SPENT], transactions[SPENT:]
        for tx in spent:  # three wrong codes (the third spends it), then the right one
            wrong = f"{(int(codes[tx]) + 1) % 10**6:06d}"
            answers = [await submit(b, tx, wrong) for _ in range(3)]
            assert answers == ["reject:invalid_code"] * 2 + ["reject:too_many_attempts"]
            assert await submit(b, tx, codes[tx]) == "reject:too_many_attempts"

        # Each code reaches both processes at once: one of them decides, and both hear the
        # decided outcome (the audit below shows exactly one accept per transaction).
        raced = await asyncio.gather(
            *(submit(client, tx, codes[tx]) for tx in rest for client in (b, a))
        )
        assert set(raced) == {"accept:None"}, Counter(raced)
        replays = await asyncio.gather(*(submit(b, tx, codes[tx]) for tx in rest))
        assert set(replays) == {"accept:None"}
        outcomes = await asyncio.gather(*(b.get(f"/v1/validate/{tx}") for tx in rest))
        assert {o.json()["result"] for o in outcomes} == {"accept"}


def _all_events(app: App) -> list[AuditEvent]:
    found: list[AuditEvent] = []
    while True:
        after = found[-1].seq if found else None
        page = app.audit.query(OPERATOR, "default", after_seq=after, limit=1000)
        if not page:
            return found
        found += page


def _code(body: str) -> str:
    return next(w.strip(".") for w in body.split() if w.strip(".").isdigit())


def test_a_thousand_challenges_finish_on_another_process(backend: str, config: Config) -> None:
    env = {
        "TWOSTEP_HOME": str(config.storage.home),
        "TWOSTEP_DATABASE_URL": config.storage.database_url,
        "TWOSTEP_SECRET_KEY": config.storage.secret_key.get_secret_value(),
    }
    app = build(config, upgrade=True)
    try:
        _population(app)
        integration, key = app.admin.create_integration(OPERATOR, "default", "vpn")
        with serving(env, count=2) as (first, second):
            transactions = asyncio.run(_start_all(first, key))
            assert len(set(transactions)) == CHALLENGES
            sent = {r["reference"]: r["body"] for r in outbox(app)}
            codes = {tx: _code(sent[tx]) for tx in transactions}
            asyncio.run(_finish_all(first, second, key, codes))
        # Exactly one accept per raced transaction; every other submission of its code (the
        # racing one and the replay) audited once as "answered again".
        events = _all_events(app)
        accepted = Counter(e.user for e in events if e.result == "accept")
        assert accepted == Counter(f"user{i}" for i in range(SPENT, CHALLENGES))
        replayed = Counter(e.user for e in events if e.detail == "answered again")
        assert replayed == Counter({f"user{i}": 2 for i in range(SPENT, CHALLENGES)}) + Counter(
            {f"user{i}": 1 for i in range(SPENT)}
        )

        # Expiry: a node whose clock runs 301 s ahead finds a fresh code expired.
        tx = app.signin.sign_in(
            SignInRequest(user=f"user{CHALLENGES - 1}", integration=integration)
        ).transaction_id
        assert tx is not None
        late_node = build(config, clock=FakeClock(app.deps.clock.now() + 301))
        try:
            late = late_node.delivered.submit(integration, tx, _code(outbox(app)[-1]["body"]))
        finally:
            late_node.close()
        assert (late.result, late.reason) == (Result.REJECT, Reason.TIMEOUT)
    finally:
        app.close()
