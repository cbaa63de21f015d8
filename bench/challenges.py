"""Text-message challenges: start + finish round trips per second, with the outbox gateway.

One round trip is what an integration does for a one-way SMS sign-in: ``POST /v1/validate``
(the server creates the challenge, "texts" the code to the outbox file, answers
``challenge``), then ``POST /v1/validate/{transaction_id}`` with the code (``accept``). The
load generator reads the codes from the outbox file as a phone would read its texts.
Baseline in the same run, with the same client: ``GET /health``.

    .venv/bin/python -m bench.challenges --concurrency 16 --seconds 10 --repeat 3

Loopback only; every run is bounded by ``--seconds`` and ``--max-count``.
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

from tests.support.postgres import free_port

from bench.loadgen import _read_answer, get, post
from bench.population import build_app
from bench.report import machine
from bench.server import HOST, Server
from twostep.domain.entities import MethodKind
from twostep.domain.ports.users import NewUser
from twostep.services.admin import DEFAULT_TENANT, OPERATOR

SETTINGS = {
    "user_delivery_limit": 1000,
    "tenant_delivery_limit": 10_000_000,
    "max_failures": 100,
}


@dataclass
class Outbox:
    """Tails the outbox file: transaction id -> the code texted for it."""

    path: Path
    offset: int = 0
    codes: dict[str, str] = field(default_factory=dict)

    def code(self, transaction_id: str) -> str:
        if transaction_id not in self.codes:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self.offset += len(complete)
            for line in complete.splitlines():
                record = json.loads(line)
                words = (w.strip(".") for w in record["body"].split())
                self.codes[record["reference"]] = next(w for w in words if w.isdigit())
        return self.codes.pop(transaction_id)


@dataclass
class Run:
    seconds: float
    done: int
    latencies: list[float]
    failures: int

    @property
    def per_second(self) -> float:
        return self.done / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


class Connection:
    """One keep-alive HTTP/1.1 connection with raw requests: a light load generator, so
    the two cores go to the server rather than to an HTTP client library."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, request: bytes) -> dict[str, Any]:
        if self.conn is None:
            self.conn = await asyncio.open_connection(HOST, self.port)
        reader, writer = self.conn
        writer.write(request)
        status, body, closing = await _read_answer(reader)
        if closing:
            writer.close()
            self.conn = None
        answer: dict[str, Any] = json.loads(body) if body else {}
        answer["_status"] = status
        return answer

    def close(self) -> None:
        if self.conn is not None:
            self.conn[1].close()


async def _lanes(concurrency: int, port: int, lane: Any) -> float:
    connections = [Connection(port) for _ in range(concurrency)]
    began = time.monotonic()
    try:
        await asyncio.gather(*(lane(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    return time.monotonic() - began


async def _round_trips(
    port: int, key: str, users: int, outbox: Outbox, concurrency: int, seconds: float, cap: int
) -> Run:
    latencies: list[float] = []
    failures = 0
    counter = iter(range(cap))
    deadline = time.monotonic() + seconds

    async def lane(connection: Connection) -> None:
        nonlocal failures
        for i in counter:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            answer = await connection.send(
                post(port, "/v1/validate", key, {"user": f"sms-{i % users}"})
            )
            tx = answer.get("transaction_id")
            if answer.get("result") != "challenge" or not tx:
                failures += 1
                continue
            code = {"code": outbox.code(tx)}
            answer = await connection.send(post(port, f"/v1/validate/{tx}", key, code))
            if answer.get("result") == "accept":
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    took = await _lanes(concurrency, port, lane)
    return Run(took, len(latencies), latencies, failures)


async def _health(port: int, concurrency: int, seconds: float, cap: int) -> Run:
    latencies: list[float] = []
    counter = iter(range(cap))
    deadline = time.monotonic() + seconds

    async def lane(connection: Connection) -> None:
        for _ in counter:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            await connection.send(get(port, "/health"))
            latencies.append(time.perf_counter() - started)

    took = await _lanes(concurrency, port, lane)
    return Run(took, len(latencies), latencies, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-count", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="twostep-bench-") as tmp:
        home = Path(tmp)
        app = build_app(home, None)
        app.admin.ensure_default_tenant()
        app.admin.update_settings(OPERATOR, DEFAULT_TENANT, SETTINGS)
        _integration, key = app.admin.create_integration(OPERATOR, DEFAULT_TENANT, "bench")
        for i in range(args.users):
            app.admin.create_user(OPERATOR, DEFAULT_TENANT, NewUser(f"sms-{i}"))
            number = f"+1415{2010000 + i:07d}"
            app.enroll.enroll_phone(OPERATOR, DEFAULT_TENANT, f"sms-{i}", MethodKind.SMS, number)
        app.close()
        server = Server(home, free_port(), args.workers, None)
        server.start()
        rows: list[dict[str, Any]] = []
        try:
            for repeat in range(args.repeat):
                outbox = Outbox(home / "outbox.jsonl")
                trips = asyncio.run(
                    _round_trips(
                        server.port,
                        key,
                        args.users,
                        outbox,
                        args.concurrency,
                        args.seconds,
                        args.max_count,
                    )
                )
                health = asyncio.run(
                    _health(server.port, args.concurrency, args.seconds, args.max_count)
                )
                row = {
                    "repeat": repeat + 1,
                    "round_trips_per_s": round(trips.per_second, 1),
                    "p50_ms": round(trips.quantile(0.5), 1),
                    "p99_ms": round(trips.quantile(0.99), 1),
                    "failures": trips.failures,
                    "health_per_s": round(health.per_second, 1),
                }
                rows.append(row)
                if not args.json:
                    print(row, flush=True)
        finally:
            server.stop()
    summary = {
        "machine": machine(),
        "concurrency": args.concurrency,
        "users": args.users,
        "runs": rows,
        "median_round_trips_per_s": statistics.median(r["round_trips_per_s"] for r in rows),
        "median_p99_ms": statistics.median(r["p99_ms"] for r in rows),
        "median_health_per_s": statistics.median(r["health_per_s"] for r in rows),
    }
    summary["ratio_to_health"] = round(
        summary["median_round_trips_per_s"] / summary["median_health_per_s"], 3
    )
    print(json.dumps(summary, indent=2) if args.json else summary)
    return 0 if all(r["failures"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
