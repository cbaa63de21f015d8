"""200 push sign-ins at once, approved by 200 reference authenticator clients that
long-poll two server processes on one database: every sign-in gets exactly its own
outcome, none lost or crossed. Each sign-in is started on one process and waited for
(``GET /v1/validate/{tx}?wait=30``) on the other; the devices poll and answer on
either. A smaller mixed round then denies half and answers a few with the wrong number.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.support.servers import serving
from twostep.authenticator.client import DeviceClient
from twostep.authenticator.errors import DeviceApiError
from twostep.authenticator.model import AnswerResult, Decision, SignInRequest
from twostep.authenticator.signing import DeviceKey, KeyType
from twostep.authenticator.uri import ACTIVATE_PATH
from twostep.bootstrap import build
from twostep.config import Config
from twostep.domain.entities import Role
from twostep.domain.ports.users import NewUser
from twostep.services.admin import OPERATOR

USERS = 200
MIXED = 40  # users in the mixed round
WRONG = frozenset({2, 7, 10, 15})  # of the approvers, these send a wrong number
DEADLINE = 45.0  # seconds for one round, everything included
SETTINGS = {
    # One start counts as a failure until approved; denials must not lock anyone here.
    "max_failures": 100,
    "push_user_limit": 100,
    "push_pause_after": 100,
    "push_max_pending": 10,
    "tenant_delivery_limit": 10_000_000,
}

pytestmark = pytest.mark.slow


@dataclass
class Phone:
    """One user's reference client and what the test learns about it."""

    user: str
    client: DeviceClient
    numbers: queue.Queue[tuple[str, int]] = field(default_factory=queue.Queue)
    polling: threading.Event = field(default_factory=threading.Event)
    seen: list[list[str]] = field(default_factory=list)  # each poll's transaction ids
    answered: SignInRequest | None = None


@dataclass(frozen=True)
class SignIn:
    user: str
    transaction_id: str
    number: int
    outcome: dict[str, Any]


def _plan(i: int, mixed: bool) -> str:
    if not mixed:
        return "approve"
    if i % 4 < 2:  # half, started on both processes
        return "deny"
    return "wrong" if i in WRONG else "approve"


def _expected(plan: str) -> tuple[str, str | None]:
    return {
        "approve": ("accept", None),
        "deny": ("reject", "denied"),
        "wrong": ("reject", "wrong_number"),
    }[plan]


def _handle_one(phone: Phone, plan: str, deadline: float) -> AnswerResult:
    """Long-poll until a request comes, take the number the test hands over for this
    user's sign-in, and answer as planned (the reference client signs the answer)."""
    pending: list[SignInRequest] = []
    phone.polling.set()
    while not pending:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{phone.user}: no request arrived")
        pending = phone.client.requests(wait=min(30.0, left))
        phone.seen.append([r.transaction_id for r in pending])
    tx, number = phone.numbers.get(timeout=max(0.1, deadline - time.monotonic()))
    mine = [r for r in pending if r.transaction_id == tx]
    assert len(pending) == 1 and mine, (phone.user, tx, phone.seen)
    phone.answered = mine[0]
    if plan == "deny":
        return phone.client.answer(mine[0], Decision.DENY)
    if plan == "wrong":
        number = 10 + (number - 10 + 1) % 90  # another two-digit number
    return phone.client.answer(mine[0], Decision.APPROVE, number)


async def _sign_ins(
    urls: list[str], key: str, phones: list[Phone], places: list[int]
) -> list[SignIn]:
    """Start every sign-in on process ``place``, hand its number to the user's client,
    and wait for the outcome on the other process."""
    limits = httpx.Limits(max_connections=len(phones) * 2)
    headers = {"Authorization": f"Bearer {key}"}
    timeout = httpx.Timeout(15.0, read=45.0)
    clients = [
        httpx.AsyncClient(base_url=u, limits=limits, headers=headers, timeout=timeout) for u in urls
    ]

    async def one(phone: Phone, place: int) -> SignIn:
        body = {"user": phone.user, "client_ip": "203.0.113.7"}
        r = await clients[place].post("/v1/validate", json=body)
        started = r.json()
        assert (r.status_code, started["result"]) == (200, "challenge"), (phone.user, r.text)
        tx, number = started["transaction_id"], started["number"]
        assert 10 <= number <= 99
        phone.numbers.put((tx, number))
        r = await clients[1 - place].get(f"/v1/validate/{tx}", params={"wait": 30})
        assert r.status_code == 200, r.text
        return SignIn(phone.user, tx, number, r.json())

    try:
        return list(
            await asyncio.gather(*(one(p, place) for p, place in zip(phones, places, strict=True)))
        )
    finally:
        for client in clients:
            await client.aclose()


def _round(
    urls: list[str], key: str, phones: list[Phone], mixed: bool
) -> tuple[list[SignIn], list[AnswerResult]]:
    deadline = time.monotonic() + DEADLINE
    for phone in phones:
        phone.polling.clear()
        phone.seen.clear()
        phone.answered = None
    with ThreadPoolExecutor(max_workers=len(phones), thread_name_prefix="phone") as pool:
        answers: list[Future[AnswerResult]] = [
            pool.submit(_handle_one, phone, _plan(i, mixed), deadline)
            for i, phone in enumerate(phones)
        ]
        for phone in phones:
            assert phone.polling.wait(timeout=10), f"{phone.user} never polled"
        time.sleep(0.5)  # let the first long-polls reach the servers and wait there
        places = [i % 2 for i in range(len(phones))]
        sign_ins = asyncio.run(asyncio.wait_for(_sign_ins(urls, key, phones, places), DEADLINE))
        results = [f.result(timeout=max(0.1, deadline - time.monotonic())) for f in answers]
    return sign_ins, results


def _client(url: str) -> DeviceClient:
    """A reference client of its own. Plain http on loopback: no CA bundle to load (that
    alone costs ~25 ms per client, 200 clients would spend seconds on it)."""
    return DeviceClient(url, timeout=10, transport=httpx.HTTPTransport(verify=False))


def _activate(urls: list[str], codes: list[str]) -> list[Phone]:
    """Each user's client makes its key pair (every fourth P-256) and activates over
    HTTP on one process; it then polls a process of its own, the other one for half."""

    def activate(i: int) -> Phone:
        key = DeviceKey.generate(KeyType.P256 if i % 4 == 3 else KeyType.ED25519)
        client = _client(urls[(i // 2) % 2])
        done = client.activate(
            codes[i], key, name=f"phone {i}", activation_url=f"{urls[i % 2]}{ACTIVATE_PATH}"
        )
        assert done.user == f"user{i}"
        return Phone(done.user, client)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(activate, range(len(codes)), timeout=60))


def _audit(url: str, admin_key: str, **query: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {admin_key}"}
    r = httpx.get(
        f"{url}/v1/tenants/default/audit",
        params={"method": "app_push", "limit": 1000, **query},
        headers=headers,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next_cursor"] is None
    return list(body["events"])


def test_push_sign_ins_get_exactly_their_own_outcome(backend: str, config: Config) -> None:
    env = {
        "TWOSTEP_HOME": str(config.storage.home),
        "TWOSTEP_DATABASE_URL": config.storage.database_url,
        "TWOSTEP_SECRET_KEY": config.storage.secret_key.get_secret_value(),
    }
    app = build(config, upgrade=True)
    try:
        app.admin.ensure_default_tenant()
        app.admin.update_settings(OPERATOR, "default", SETTINGS)
        _integration, key = app.admin.create_integration(OPERATOR, "default", "vpn")
        _admin, admin_key = app.admin.create_admin_key(OPERATOR, "push", Role.GLOBAL_ADMIN)
        codes = []
        for i in range(USERS):
            app.admin.create_user(OPERATOR, "default", NewUser(f"user{i}"))
            codes.append(app.devices.start_activation(OPERATOR, "default", f"user{i}").code)
    finally:
        app.close()

    with serving(env, count=2) as urls:
        phones = _activate(urls, codes)
        try:
            # -- 200 sign-ins at once, every one approved with its own number -----------
            sign_ins, answers = _round(urls, key, phones, mixed=False)
            transactions = [s.transaction_id for s in sign_ins]
            assert len(set(transactions)) == USERS
            for phone, sign_in, answer in zip(phones, sign_ins, answers, strict=True):
                # The device saw its own request and nothing else, and the waiting
                # validate call on the other process heard exactly its own outcome.
                assert all(seen in ([], [sign_in.transaction_id]) for seen in phone.seen)
                assert phone.answered is not None
                assert phone.answered.transaction_id == sign_in.transaction_id
                assert (answer.result, answer.reason) == ("accept", None), phone.user
                got = sign_in.outcome
                assert (got["result"], got["reason"]) == ("accept", None), (phone.user, got)
                assert got["transaction_id"] == sign_in.transaction_id

            # An approval sent again (to the other process) is a replay: it decides nothing
            # more and hears the outcome (the audit below counts one accept per user).
            for phone, sign_in in zip(phones[:10], sign_ins[:10], strict=True):
                assert phone.answered is not None
                other = next(u for u in urls if u != phone.client.base_url)
                with _client(other) as again:
                    again.device_id, again.key = phone.client.device_id, phone.client.key
                    replay = again.answer(phone.answered, Decision.APPROVE, sign_in.number)
                assert (replay.result, replay.reason) == ("accept", None)

            # A device cannot decide another user's request, even with its nonce.
            victim, thief = phones[-1], phones[-2]
            assert victim.answered is not None
            with pytest.raises(DeviceApiError) as refused:
                thief.client.answer(victim.answered, Decision.DENY)
            assert (refused.value.status, refused.value.code) == (404, "transaction_not_found")

            accepted = _audit(urls[0], admin_key, result="accept")
            assert Counter(e["user"] for e in accepted) == Counter(p.user for p in phones)
            # Approvals were decided on both processes.
            assert {e["server_name"] for e in accepted} == {"node-0", "node-1"}

            # -- the mixed round: half deny, a few approve with the wrong number ----------
            subset = phones[:MIXED]
            sign_ins, answers = _round(urls, key, subset, mixed=True)
            expected: Counter[str] = Counter()
            for i, (phone, sign_in, answer) in enumerate(
                zip(subset, sign_ins, answers, strict=True)
            ):
                plan = _plan(i, mixed=True)
                want = _expected(plan)
                expected[plan] += 1
                assert phone.answered is not None
                assert phone.answered.transaction_id == sign_in.transaction_id
                assert (answer.result, answer.reason) == want, (phone.user, plan, answer)
                got = sign_in.outcome
                assert (got["result"], got["reason"]) == want, (phone.user, plan, got)
                assert got["transaction_id"] == sign_in.transaction_id
            assert expected == {"deny": MIXED // 2, "wrong": len(WRONG), "approve": 16}

            accepted = _audit(urls[1], admin_key, result="accept")
            assert len(accepted) == USERS + expected["approve"]
            rejected = Counter(e["reason"] for e in _audit(urls[1], admin_key, result="reject"))
            assert rejected["denied"] == expected["deny"]
            assert rejected["wrong_number"] == expected["wrong"]
        finally:
            for phone in phones:
                phone.client.close()
