"""Push sign-ins: latency from the device's approval to the waiting validate call returning.

One round is a whole push sign-in on loopback, as an integration and a phone do it:

1. the integration: ``POST /v1/validate`` (answer ``challenge``, a transaction id and the
   number to show), then ``GET /v1/validate/{tx}?wait=30``, held open;
2. the device: ``GET /v1/devices/{device}/requests`` (signed, docs/device-api.md §2) for
   the request's nonce, a short pause (``--settle-ms``) so the waiting call is parked in
   the server's waiter, then ``POST /v1/devices/{device}/requests/{tx}`` approving with
   the number, signed (§3).

Measured: from writing the approval to reading the waiting validate call's answer
(``approval_to_outcome``), and the approval's own round trip (``approval_post``). Baseline
in the same run, over the same kind of connection and concurrency: ``GET /health``.
Users are activated in-process before the server starts, each device with its own
Ed25519 key made with ``cryptography`` (``twostep.authenticator.signing``). Each lane has
its own users, so no user has two requests pending at once.

    .venv/bin/python -m bench.push --rounds 200 --repeat 3 --concurrency 1,4,16

Loopback only; each run is bounded by ``--rounds`` and ``--seconds``, and a hard timeout
cancels it if the server stops answering.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.support.postgres import free_port

from bench.loadgen import _read_answer
from bench.population import build_app
from bench.report import machine
from bench.server import HOST, Server, cpu_since, tree_cpu
from twostep.authenticator.signing import DeviceKey, answer_signature, authorization
from twostep.domain.ports.users import NewUser
from twostep.services.admin import DEFAULT_TENANT, OPERATOR
from twostep.services.devices import DeviceKey as PublicKey

HARD_TIMEOUT_GRACE = 15.0  # seconds past --seconds before a run is cancelled
WAIT = 30  # the validate long-poll, as an integration asks for it
PUSH_USER_LIMIT = 100  # the highest a tenant may set
SETTINGS = {
    # Every start counts as a failure until approved, and the fatigue limits would
    # otherwise stop a user after 10 requests in 10 minutes.
    "max_failures": 100,
    "push_user_limit": PUSH_USER_LIMIT,
    "push_max_pending": 10,
    "push_pause_after": 100,
    "tenant_delivery_limit": 10_000_000,
}


@dataclass(frozen=True)
class Phone:
    user: str
    device_id: str
    key: DeviceKey


@dataclass
class Run:
    seconds: float = 0.0
    approval_to_outcome: list[float] = field(default_factory=list)
    approval_post: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    def fail(self, label: str) -> None:
        self.failures[label] = self.failures.get(label, 0) + 1


def quantile_ms(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile in milliseconds."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return round(ordered[rank] * 1000, 2)


def _per(cpu_seconds: float, samples: list[float]) -> float | None:
    return round(cpu_seconds * 1000 / len(samples), 2) if samples else None


def request(
    method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
) -> bytes:
    payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + payload


def signed(phone: Phone, method: str, path: str) -> dict[str, str]:
    return {
        "Authorization": authorization(phone.key, phone.device_id, method, path, int(time.time()))
    }


class Connection:
    """One keep-alive HTTP/1.1 connection; the time its answer was read is kept."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, data: bytes) -> tuple[int, dict[str, Any], float]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(HOST, self.port)
        reader, writer = self.streams
        writer.write(data)
        status, body, closing = await _read_answer(reader)
        done = time.perf_counter()
        if closing:
            writer.close()
            self.streams = None
        try:
            answer = json.loads(body) if body else {}
        except ValueError:
            answer = {}
        return status, answer if isinstance(answer, dict) else {}, done

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _sign_in(
    phone: Phone,
    bearer: dict[str, str],
    integration: Connection,
    waiting: Connection,
    device: Connection,
    settle: float,
    run: Run,
) -> None:
    status, started, _ = await integration.send(
        request("POST", "/v1/validate", bearer, {"user": phone.user, "client_ip": "203.0.113.7"})
    )
    tx, number = started.get("transaction_id"), started.get("number")
    if status != 200 or started.get("result") != "challenge" or not tx or number is None:
        run.fail(f"start:{status}:{started.get('reason') or started.get('error')}")
        return
    outcome = asyncio.create_task(
        waiting.send(request("GET", f"/v1/validate/{tx}?wait={WAIT}", bearer))
    )
    path = f"/v1/devices/{phone.device_id}/requests"
    _, listed, _ = await device.send(request("GET", path, signed(phone, "GET", path)))
    mine = [r for r in listed.get("requests", []) if r.get("transaction_id") == tx]
    if not mine:
        run.fail("request_not_listed")
        outcome.cancel()
        waiting.close()  # its answer would be read by the next round otherwise
        return
    await asyncio.sleep(settle)  # the waiting call is parked in the server's waiter
    nonce = mine[0]["nonce"]
    path = f"/v1/devices/{phone.device_id}/requests/{quote(tx, safe='')}"
    body = {
        "decision": "approve",
        "number": number,
        "nonce": nonce,
        "signature": answer_signature(phone.key, tx, "approve", number, nonce),
    }
    approval = request("POST", path, signed(phone, "POST", path), body)
    sent = time.perf_counter()
    status, answered, answered_at = await device.send(approval)
    got_status, got, got_at = await outcome
    if answered.get("result") != "accept":
        run.fail(f"approval:{status}:{answered.get('reason') or answered.get('error')}")
    elif got_status != 200 or got.get("result") != "accept":
        run.fail(f"outcome:{got_status}:{got.get('result')}:{got.get('reason')}")
    else:
        run.approval_post.append(answered_at - sent)
        run.approval_to_outcome.append(got_at - sent)


async def _push_run(
    port: int, key: str, lanes: list[list[Phone]], rounds: int, seconds: float, settle: float
) -> Run:
    run = Run()
    bearer = {"Authorization": f"Bearer {key}"}
    counter = iter(range(rounds))
    deadline = time.monotonic() + seconds

    async def lane(phones: list[Phone]) -> None:
        integration, waiting, device = connections = [Connection(port) for _ in range(3)]
        try:
            for turn, _ in enumerate(counter):
                if time.monotonic() > deadline:
                    return
                phone = phones[turn % len(phones)]
                await _sign_in(phone, bearer, integration, waiting, device, settle, run)
        finally:
            for connection in connections:
                connection.close()

    began = time.monotonic()
    try:
        async with asyncio.timeout(seconds + HARD_TIMEOUT_GRACE):
            await asyncio.gather(*(lane(phones) for phones in lanes))
    except TimeoutError:
        run.fail("client_timeout")
    run.seconds = time.monotonic() - began
    return run


async def _health_run(port: int, concurrency: int, count: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    counter = iter(range(count))
    deadline = time.monotonic() + seconds
    probe = request("GET", "/health", {})

    async def lane() -> None:
        connection = Connection(port)
        try:
            for _ in counter:
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter()
                status, _, done = await connection.send(probe)
                if status == 200:
                    latencies.append(done - started)
        finally:
            connection.close()

    async with asyncio.timeout(seconds + HARD_TIMEOUT_GRACE):
        await asyncio.gather(*(lane() for _ in range(concurrency)))
    return latencies


def _population(home: Path, users: int) -> tuple[str, list[Phone]]:
    app = build_app(home, None)
    try:
        app.admin.ensure_default_tenant()
        app.admin.update_settings(OPERATOR, DEFAULT_TENANT, SETTINGS)
        _integration, key = app.admin.create_integration(OPERATOR, DEFAULT_TENANT, "bench")
        phones = []
        for i in range(users):
            name = f"push-{i}"
            app.admin.create_user(OPERATOR, DEFAULT_TENANT, NewUser(name))
            started = app.devices.start_activation(OPERATOR, DEFAULT_TENANT, name)
            device_key = DeviceKey.generate()
            public = PublicKey(
                str(device_key.key_type),
                device_key.public_key_b64(),
                name,
                "bench",
                {"kind": "pull"},
            )
            done = app.devices.activate(started.code, public)
            phones.append(Phone(name, done.device.id, device_key))
    finally:
        app.close()
    return key, phones


def _lanes(phones: list[Phone], concurrency: int) -> list[list[Phone]]:
    """Each lane its own users: a user never has two requests at once."""
    return [phones[i::concurrency] for i in range(concurrency)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=200, help="sign-ins per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", default="1,4,16", help="sign-ins in flight, e.g. 1,16")
    parser.add_argument("--seconds", type=float, default=60.0, help="time bound of one run")
    parser.add_argument("--settle-ms", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--workers", type=int, default=None, help="[the server's default]")
    parser.add_argument("--target-ms", type=float, default=100.0)
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]
    if max(levels) > args.users:
        parser.error("--users must be at least the highest --concurrency")
    pushes = args.warmup + args.repeat * len(levels) * args.rounds
    if pushes > args.users * PUSH_USER_LIMIT * 0.9:  # the tenant's limit per 10 minutes
        parser.error(f"{pushes} sign-ins need more --users (at most {PUSH_USER_LIMIT} each)")
    settle = args.settle_ms / 1000

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="twostep-bench-push-") as tmp:
        home = Path(tmp)
        key, phones = _population(home, args.users)
        server = Server(home, free_port(), args.workers, None)
        server.start()
        try:
            asyncio.run(_push_run(server.port, key, [phones], args.warmup, args.seconds, settle))
            for repeat in range(args.repeat):
                for concurrency in levels:
                    lanes = _lanes(phones, concurrency)
                    server_before, client_before = tree_cpu(server.pid), time.process_time()
                    pushed = asyncio.run(
                        _push_run(server.port, key, lanes, args.rounds, args.seconds, settle)
                    )
                    server_cpu = cpu_since(server.pid, server_before)
                    client_cpu = time.process_time() - client_before
                    health = asyncio.run(
                        _health_run(server.port, concurrency, args.rounds, args.seconds)
                    )
                    samples = pushed.approval_to_outcome
                    row = {
                        "repeat": repeat + 1,
                        "concurrency": concurrency,
                        "rounds": len(samples),
                        "failures": pushed.failures,
                        "sign_ins_per_s": round(len(samples) / pushed.seconds, 1),
                        "approval_to_outcome_p50_ms": quantile_ms(samples, 0.5),
                        "approval_to_outcome_p99_ms": quantile_ms(samples, 0.99),
                        "approval_post_p50_ms": quantile_ms(pushed.approval_post, 0.5),
                        # CPU per sign-in: the server's process tree, and this generator's
                        # (both share the machine's cores).
                        "server_cpu_ms_per_sign_in": _per(server_cpu, samples),
                        "client_cpu_ms_per_sign_in": _per(client_cpu, samples),
                        "health_p50_ms": quantile_ms(health, 0.5),
                        "health_p99_ms": quantile_ms(health, 0.99),
                    }
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr, flush=True)
        finally:
            server.stop()

    summary: dict[str, Any] = {
        "machine": machine(),
        "users": args.users,
        "rounds": args.rounds,
        "repeat": args.repeat,
        "settle_ms": args.settle_ms,
        "workers": args.workers,
        "by_concurrency": {},
    }
    for concurrency in levels:
        mine = [r for r in rows if r["concurrency"] == concurrency]

        def median(name: str, rows: list[dict[str, Any]] = mine) -> float | None:
            values = [r[name] for r in rows if r[name] is not None]
            return round(statistics.median(values), 2) if values else None

        p50 = median("approval_to_outcome_p50_ms")
        summary["by_concurrency"][str(concurrency)] = {
            "approval_to_outcome_p50_ms": p50,
            "approval_to_outcome_p99_ms": median("approval_to_outcome_p99_ms"),
            "target_met": p50 is not None and p50 < args.target_ms,
            "approval_post_p50_ms": median("approval_post_p50_ms"),
            "server_cpu_ms_per_sign_in": median("server_cpu_ms_per_sign_in"),
            "client_cpu_ms_per_sign_in": median("client_cpu_ms_per_sign_in"),
            "health_p50_ms": median("health_p50_ms"),
            "health_p99_ms": median("health_p99_ms"),
            "sign_ins_per_s": median("sign_ins_per_s"),
            "failures": sum(sum(r["failures"].values()) for r in mine),
        }
    summary["target"] = (
        f"approval_to_outcome median (of the repeats' medians) < {args.target_ms:g} ms"
    )
    summary["runs"] = rows
    print(json.dumps(summary, indent=2))
    return 1 if any(r["failures"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
