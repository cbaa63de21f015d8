"""A challenge has exactly one decided answer, whatever arrives at once (issue 10, item 1).

Two server processes on one database. In every round one user starts a sign-in and two
conflicting answers to it are written at the same instant, one to each process: a push
approve/deny, approve/fraud or deny/fraud from the user's one device, a call's ``#``
against its ``0#``, two text replies (the right code and a wrong one), two texted codes
submitted by the integration (the right one and a wrong one). 200 rounds of each, one
distinct user per round (audit events carry no transaction id: the user ties them to
their round), on SQLite and on PostgreSQL. The rules:

- The first answer to win the challenge's conditional update decides the outcome. The
  other one is told that final outcome and is audited exactly once as a replay:
  ``reject`` / ``code_replayed`` / "answered again".
- A fraud report that loses is not lost: the outcome stays as decided, the report is
  audited once as ``reject`` / ``fraud_reported`` / "after approval" (or "after
  denial"), one alert is sent and the user is locked. A fraud report that wins decides
  ``reject`` / ``fraud_reported`` (one alert, user locked); the other answer is a replay.
- What each answer is told: the device API answers the final outcome (what
  ``GET /v1/validate/{tx}`` tells the integration); a call hears the words of the final
  outcome, except that a fraud report always hears the "fraud" words; a text reply gets
  204; a texted code submitted by the integration is answered with the final outcome.

The two answers leave within microseconds of each other (``at_once``: both connections
open first, then both requests written with no await in between); which answer goes
first and to which process alternate, and 24 rounds are in flight. For the push and call
pairs each answer, and also the answer written second, must win a share of the rounds:
else the race was not run.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.support.devices import FakeDevice
from tests.support.races import AlertInbox, OutboxTail, RawRequest, RawResponse, at_once, send
from tests.support.servers import serving
from twostep.adapters.gateways.common import sign
from twostep.bootstrap import build
from twostep.config import Config
from twostep.domain.entities import MethodKind, Role
from twostep.domain.ports.users import NewUser
from twostep.factors import phone_text
from twostep.services.admin import OPERATOR

ROUNDS = 200  # of each pair
IN_FLIGHT = 24  # rounds played at once
MIN_SHARE = 0.15  # push and call pairs: each answer, and the one sent second, win this share
DEADLINE = 150.0  # seconds for all rounds on one database
SETTINGS: dict[str, Any] = {
    # One user per round and one sign-in each: no limit may interfere.
    "max_failures": 100,
    "push_user_limit": 100,
    "push_pause_after": 100,
    "push_max_pending": 10,
    "user_delivery_limit": 1000,
    "tenant_delivery_limit": 10_000_000,
    # A wrong reply or code decides too (no second try).
    "challenge_attempts": 1,
    "fraud_blocks_user": True,
}
REPLAY = ("reject", "code_replayed", "answered again")
LATE_FRAUD_DETAILS = ("after approval", "after denial")

pytestmark = pytest.mark.slow

Outcome = tuple[str, str | None]  # (result, reason)


@dataclass(frozen=True)
class Answer:
    name: str
    decides: frozenset[Outcome]  # the outcome it decides when it wins
    fraud: bool = False


APPROVE = Answer("approve", frozenset({("accept", None)}))
DENY = Answer("deny", frozenset({("reject", "denied")}))
FRAUD = Answer("fraud", frozenset({("reject", "fraud_reported")}), fraud=True)
PRESS = Answer("#", frozenset({("accept", None)}))
REPORT = Answer("0#", frozenset({("reject", "fraud_reported")}), fraud=True)
RIGHT = Answer("right code", frozenset({("accept", None)}))
# Which reason a wrong code that spends the only attempt decides is not the point here;
# that every answer and the integration are told the same one is.
WRONG = Answer(
    "wrong code", frozenset({("reject", "invalid_code"), ("reject", "too_many_attempts")})
)


@dataclass(frozen=True)
class Pair:
    slug: str  # user names of this pair's rounds start with it
    kind: MethodKind
    answers: tuple[Answer, Answer]
    both_orders: bool  # each answer must win a share of the rounds

    @property
    def name(self) -> str:
        return f"{self.kind.value} {self.answers[0].name}/{self.answers[1].name}"

    @property
    def fraud(self) -> bool:
        return any(a.fraud for a in self.answers)


PAIRS = (
    Pair("push-ad", MethodKind.APP_PUSH, (APPROVE, DENY), both_orders=True),
    Pair("push-af", MethodKind.APP_PUSH, (APPROVE, FRAUD), both_orders=True),
    Pair("push-df", MethodKind.APP_PUSH, (DENY, FRAUD), both_orders=True),
    Pair("call", MethodKind.VOICE, (PRESS, REPORT), both_orders=True),
    Pair("reply", MethodKind.SMS_REPLY, (RIGHT, WRONG), both_orders=False),
    Pair("code", MethodKind.SMS, (RIGHT, WRONG), both_orders=False),
)


@dataclass
class Round:
    pair: Pair
    index: int
    user: str
    phone: str | None = None
    device: FakeDevice | None = None
    transaction_id: str | None = None
    told: list[RawResponse] = field(default_factory=list)  # in the order of pair.answers
    outcome: Outcome | None = None  # GET /v1/validate/{tx}
    winner: Answer | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Servers:
    urls: list[str]
    integration_key: str
    webhook_secret: str
    outbox: OutboxTail

    @property
    def bearer(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.integration_key}"}


# -- the rounds ------------------------------------------------------------------------


def _places(index: int) -> tuple[int, int, bool]:
    """Where a round starts, where its first answer goes, and whether the first answer is
    written first: the eight combinations take turns."""
    return index % 2, (index // 2) % 2, (index // 4) % 2 == 0


def _sent_first(game: Round) -> Answer:
    return game.pair.answers[0 if _places(game.index)[2] else 1]


async def _play(servers: Servers, game: Round) -> None:
    pair = game.pair
    start_at, first_at, first_first = _places(game.index)
    body = {"user": game.user, "method": pair.kind.value, "client_ip": "203.0.113.7"}
    r = await send(
        servers.urls[start_at], RawRequest.json("POST", "/v1/validate", body, servers.bearer)
    )
    started = r.json() if r.status == 200 else {}
    if started.get("result") != "challenge":
        game.problems.append(f"the sign-in did not start: {r.status} {r.text}")
        return
    tx = game.transaction_id = str(started["transaction_id"])
    first, second = await _answers(servers, game, tx, started.get("number"), 1 - start_at)

    sends = [(servers.urls[first_at], first), (servers.urls[1 - first_at], second)]
    told = await at_once(sends if first_first else sends[::-1])
    game.told = told if first_first else told[::-1]

    r = await send(
        servers.urls[1 - start_at], RawRequest("GET", f"/v1/validate/{tx}", b"", servers.bearer)
    )
    assert r.status == 200, f"GET /v1/validate/{tx}: {r.status} {r.text}"
    got = r.json()
    game.outcome = (str(got["result"]), got["reason"])


async def _answers(
    servers: Servers, game: Round, tx: str, number: int | None, other: int
) -> tuple[RawRequest, RawRequest]:
    """The round's two answers, ready to send (in the order of ``pair.answers``)."""
    pair = game.pair
    if pair.kind is MethodKind.APP_PUSH:
        assert game.device is not None and number is not None
        nonce = await _nonce(servers.urls[other], game.device, tx)
        return (
            _push_answer(game.device, tx, pair.answers[0], number, nonce),
            _push_answer(game.device, tx, pair.answers[1], number, nonce),
        )
    if pair.kind is MethodKind.VOICE:
        target = f"/v1/gateways/outbox/calls?ref={tx}"
        return (
            _hook(servers, target, {"reference": tx, "digits": "#"}),
            _hook(servers, target, {"reference": tx, "digits": "0#"}),
        )
    sent = await servers.outbox.sent(tx)
    match = re.search(r"\b(\d{6})\b", sent["body"])
    assert match, f"no code in {sent['body']!r}"
    right, wrong = match.group(1), f"{(int(match.group(1)) + 1) % 10**6:06d}"
    if pair.kind is MethodKind.SMS_REPLY:
        target = "/v1/gateways/outbox/inbound"
        return (
            _hook(servers, target, {"from": game.phone, "text": right}),
            _hook(servers, target, {"from": game.phone, "text": wrong}),
        )
    return (
        RawRequest.json("POST", f"/v1/validate/{tx}", {"code": right}, servers.bearer),
        RawRequest.json("POST", f"/v1/validate/{tx}", {"code": wrong}, servers.bearer),
    )


async def _nonce(url: str, device: FakeDevice, tx: str) -> str:
    """The request's nonce, as the device learns it: from its own signed poll."""
    path = f"/v1/devices/{device.id}/requests"
    r = await send(url, RawRequest("GET", path, b"", {"authorization": device.header("GET", path)}))
    assert r.status == 200, r.text
    nonces = [q["nonce"] for q in r.json()["requests"] if q["transaction_id"] == tx]
    assert nonces, f"the device does not see {tx}: {r.text}"
    return str(nonces[0])


def _push_answer(
    device: FakeDevice, tx: str, answer: Answer, number: int, nonce: str
) -> RawRequest:
    decision = {APPROVE: "approve", DENY: "deny", FRAUD: "fraud"}[answer]
    sent_number = number if decision == "approve" else None
    body: dict[str, Any] = {
        "decision": decision,
        "nonce": nonce,
        "signature": device.answer(tx, decision, sent_number, nonce),
    }
    if sent_number is not None:
        body["number"] = sent_number
    path = f"/v1/devices/{device.id}/requests/{tx}"
    return RawRequest.json("POST", path, body, {"authorization": device.header("POST", path)})


def _hook(servers: Servers, target: str, data: dict[str, Any]) -> RawRequest:
    """A webhook as the outbox gateway's phone would post it: signed JSON."""
    body = json.dumps(data).encode()
    headers = {
        "content-type": "application/json",
        "x-twostep-signature": sign(servers.webhook_secret, body),
    }
    return RawRequest("POST", target, body, headers)


async def _play_all(servers: Servers, rounds: Sequence[Round]) -> None:
    queue = iter(rounds)

    async def player() -> None:
        for game in queue:
            try:
                await asyncio.wait_for(_play(servers, game), 30)
            except Exception as exc:  # recorded: the other rounds go on
                game.problems.append(f"the round broke off: {type(exc).__name__}: {exc}")

    await asyncio.wait_for(asyncio.gather(*(player() for _ in range(IN_FLIGHT))), DEADLINE)


# -- what the rounds left behind ---------------------------------------------------------


def _read_all(url: str, admin_key: str) -> tuple[list[dict[str, Any]], dict[str, bool]]:
    """Every audit event of the tenant, and every user's ``locked``: paged admin reads."""
    headers = {"Authorization": f"Bearer {admin_key}"}
    events: list[dict[str, Any]] = []
    locked: dict[str, bool] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as admin:
        cursor: str | None = None
        for _ in range(100):
            page: dict[str, str | int] = {"limit": 1000}
            if cursor is not None:
                page["cursor"] = cursor
            r = admin.get("/v1/tenants/default/audit", params=page)
            assert r.status_code == 200, r.text
            events += r.json()["events"]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        after: str | None = None
        for _ in range(100):
            page = {"limit": 1000}
            if after is not None:
                page["after"] = after
            r = admin.get("/v1/tenants/default/users", params=page)
            assert r.status_code == 200, r.text
            users = r.json()
            locked.update({u["user"]: u["locked"] for u in users})
            if len(users) < 1000:
                break
            after = users[-1]["user"]
    return events, locked


def _judge(game: Round, events: Sequence[dict[str, Any]], locked: bool | None, alerts: int) -> None:
    """Check one round against the rules; what breaks them goes to ``game.problems``."""
    pair, outcome = game.pair, game.outcome
    if outcome is None:
        return  # the round broke off; its problem is recorded
    winners = [a for a in pair.answers if outcome in a.decides]
    if len(winners) != 1:
        game.problems.append(f"the outcome {_fmt(outcome)} is no answer's")
        return
    winner = game.winner = winners[0]
    loser = pair.answers[1 - pair.answers.index(winner)]

    # Every answer is told the final outcome (a fraud report in a call: the fraud words).
    for answer, told in zip(pair.answers, game.told, strict=True):
        heard = _heard(pair.kind, answer, told, outcome)
        if heard is not None:
            game.problems.append(f"{answer.name} was told {heard}")

    # The audit: the start, then exactly one event per answer, exactly one of them deciding.
    starts = [e for e in events if e["result"] == "challenge"]
    answered = [e for e in events if e["result"] != "challenge"]
    if len(starts) != 1:
        game.problems.append(f"{len(starts)} challenge events")
    deciding = [e for e in answered if _deciding(e)]
    if len(deciding) != 1:
        game.problems.append(f"{len(deciding)} deciding events")
    elif (deciding[0]["result"], deciding[0]["reason"]) != outcome:
        game.problems.append(f"the deciding event says {_fmt_event(deciding[0])}")
    if loser.fraud:
        detail = "after approval" if outcome[0] == "accept" else "after denial"
        after: tuple[str, str | None, str | None] = ("reject", "fraud_reported", detail)
    else:
        after = REPLAY
    others = sorted(_fmt_event(e) for e in answered if not _deciding(e))
    if len(answered) != 2 or others != [_fmt_event(after)]:
        game.problems.append(
            f"the audit of {loser.name} after {winner.name}: {len(answered)} answer events, "
            f"non-deciding {others} (wanted {_fmt_event(after)})"
        )

    # Fraud: one alert and a locked user exactly when a report was made.
    wanted_alerts = 1 if pair.fraud else 0
    if alerts != wanted_alerts:
        game.problems.append(f"{alerts} alerts (wanted {wanted_alerts})")
    if locked is not pair.fraud:
        game.problems.append(f"locked is {locked} (wanted {pair.fraud})")


def _heard(kind: MethodKind, answer: Answer, told: RawResponse, outcome: Outcome) -> str | None:
    """What the answer was told, when that breaks the rules; None when it is right."""
    if kind is MethodKind.SMS_REPLY:  # a text reply gets no answer
        return None if told.status == 204 else f"HTTP {told.status} {told.text[:80]}"
    if told.status != 200:
        return f"HTTP {told.status} {told.text[:80]}"
    if kind is MethodKind.VOICE:
        key = "fraud" if answer.fraud else "approved" if outcome[0] == "accept" else "denied"
        spoken = {phone_text.words(k, "en"): k for k in ("approved", "denied", "fraud")}
        heard = spoken.get(told.text, told.text[:60])
        return None if heard == key else f'"{heard}" words, wanted "{key}"'
    try:
        got = told.json()
    except ValueError:
        return f"unreadable JSON {told.text[:80]!r}"
    said = (got.get("result"), got.get("reason"))
    return None if said == outcome else f"{_fmt(said)} while the outcome is {_fmt(outcome)}"


def _deciding(event: dict[str, Any]) -> bool:
    return (
        event["result"] in ("accept", "reject")
        and event["detail"] != "answered again"
        and not (event["reason"] == "fraud_reported" and event["detail"] in LATE_FRAUD_DETAILS)
    )


def _fmt(outcome: tuple[Any, Any]) -> str:
    return f"{outcome[0]}/{outcome[1]}"


def _fmt_event(event: dict[str, Any] | tuple[str, str | None, str | None]) -> str:
    if isinstance(event, dict):
        event = (event["result"], event["reason"], event["detail"])
    return f"{event[0]}/{event[1]}/{event[2]!r}"


def _summary(rounds: Sequence[Round]) -> tuple[str, list[str]]:
    """Per pair: which answer won how often, and the problems by kind."""
    lines: list[str] = []
    failures: list[str] = []
    for pair in PAIRS:
        mine = [g for g in rounds if g.pair is pair]
        wins = Counter(g.winner.name for g in mine if g.winner is not None)
        problems = Counter(p for g in mine for p in g.problems)
        bad = sum(1 for g in mine if g.problems)
        won = ", ".join(f"{a.name} won {wins[a.name]}" for a in pair.answers)
        overtaken = sum(1 for g in mine if g.winner is not None and g.winner is not _sent_first(g))
        if pair.both_orders:  # else the race was not run: make the sends more simultaneous
            for answer in pair.answers:
                if wins[answer.name] < MIN_SHARE * len(mine):
                    problems[f"{answer.name} won only {wins[answer.name]} rounds"] += 1
            if overtaken < MIN_SHARE * len(mine):
                problems[f"the answer sent second won only {overtaken} rounds"] += 1
        lines.append(
            f"{pair.name}: {len(mine)} rounds, {won} ({overtaken} by the answer sent second); "
            f"{bad} rounds broke the rules"
        )
        for problem, count in problems.most_common(8):
            lines.append(f"    {count:4d} x {problem}")
        failures += [f"{pair.name}: {p}" for p in problems]
    return "\n".join(lines), failures


# -- the test ----------------------------------------------------------------------------


def _population(config: Config, alert_url: str) -> tuple[list[Round], str, str, str]:
    """One user per round, their method registered in-process before the servers start;
    returns the rounds, the integration key, an admin key and the outbox webhook secret."""
    app = build(config, upgrade=True)
    try:
        app.admin.ensure_default_tenant()
        app.admin.update_settings(OPERATOR, "default", {**SETTINGS, "alert_webhook_url": alert_url})
        _integration, key = app.admin.create_integration(OPERATOR, "default", "vpn")
        _admin, admin_key = app.admin.create_admin_key(OPERATOR, "races", Role.GLOBAL_ADMIN)
        rounds = [Round(pair, i, f"{pair.slug}-{i:03d}") for i in range(ROUNDS) for pair in PAIRS]
        phones = (f"+1415201{n:04d}" for n in range(10_000))
        for game in rounds:
            if game.pair.kind is not MethodKind.APP_PUSH:
                game.phone = next(phones)

        def register(game: Round) -> None:
            app.admin.create_user(OPERATOR, "default", NewUser(game.user))
            if game.phone is None:
                game.device = FakeDevice.new().activate(app, game.user)
            else:
                app.enroll.enroll_phone(OPERATOR, "default", game.user, game.pair.kind, game.phone)

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(register, rounds, timeout=120))
        secret = app.delivered.delivery.outbox.webhook_secret
    finally:
        app.close()
    return rounds, key, admin_key, secret


async def _race(
    urls: list[str], key: str, secret: str, config: Config, rounds: Sequence[Round]
) -> None:
    outbox = OutboxTail(config.storage.home / "outbox.jsonl")
    await _play_all(Servers(urls, key, secret, outbox), rounds)


def test_two_answers_at_once_leave_one_decided_outcome(backend: str, config: Config) -> None:
    env = {
        "TWOSTEP_HOME": str(config.storage.home),
        "TWOSTEP_DATABASE_URL": config.storage.database_url,
        "TWOSTEP_SECRET_KEY": config.storage.secret_key.get_secret_value(),
    }
    with AlertInbox.running() as alerts:
        rounds, key, admin_key, secret = _population(config, alerts.url)
        with serving(env, count=2) as urls:
            # Interleaved, so every pair meets the same load.
            asyncio.run(_race(urls, key, secret, config, rounds))
            reports = sum(1 for g in rounds if g.pair.fraud and g.transaction_id)
            alerts.settle(reports)
            events, locked = _read_all(urls[0], admin_key)

    by_user: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_user[event["user"]].append(event)
    for game in rounds:
        _judge(
            game,
            by_user[game.user],
            locked.get(game.user),
            alerts.counts[game.transaction_id or ""],
        )
    summary, failures = _summary(rounds)
    examples = [f"{g.user} ({g.transaction_id}): {p}" for g in rounds for p in g.problems][:12]
    assert not failures, f"\n{summary}\nfor example:\n" + "\n".join(examples)
