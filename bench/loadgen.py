"""A small loopback HTTP/1.1 load generator on asyncio streams.

One keep-alive connection per concurrent lane; each lane sends its own pre-built
requests one after another (so a user is never in flight twice, and its HOTP codes
arrive in counter order). A run stops by itself when every lane has sent its list
(the count bound) or when the deadline passes (the time bound); a hard timeout
cancels lanes stuck on a server that stopped answering.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"
HARD_TIMEOUT_GRACE = 15.0  # seconds past the deadline before lanes are cancelled

# Classifies one answer: "ok", or a short label for what went wrong.
Check = Callable[[int, bytes], str]


@dataclass
class Plan:
    kind: str  # "health", "success" or "failure"
    lanes: list[list[bytes]]
    check: Check
    # For each lane, the user index of each request (None for /health).
    owners: list[list[int]] = field(default_factory=list)


@dataclass
class RunResult:
    kind: str
    concurrency: int
    sent: int
    ok: int
    elapsed: float
    latencies: list[float]  # seconds, of the answers that were "ok"
    outcomes: Counter[str]
    client_cpu: float  # CPU seconds the generator itself used
    sent_per_lane: list[int]
    server_cpu: float = float("nan")  # CPU seconds of the server's process tree
    db_cpu: float = 0.0  # CPU seconds of the PostgreSQL server (0 for SQLite: in-process)
    other_cpu: float = float("nan")  # CPU seconds of everything else on the machine

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def errors(self) -> int:
        return self.sent - self.ok

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds (nearest rank); NaN without data."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    def summary(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "concurrency": self.concurrency,
            "sent": self.sent,
            "ok": self.ok,
            "errors": self.errors,
            "elapsed_s": round(self.elapsed, 4),
            "rate_per_s": round(self.rate, 1),
            "p50_ms": round(self.percentile(50), 3),
            "p99_ms": round(self.percentile(99), 3),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 3)
            if self.latencies
            else None,
            "client_cpu_s": round(self.client_cpu, 3),
            "server_cpu_s": round(self.server_cpu, 3),
            "db_cpu_s": round(self.db_cpu, 3),
            "other_cpu_s": round(self.other_cpu, 3),
            "outcomes": dict(self.outcomes),
        }


def post(port: int, path: str, key: str, body: dict[str, str]) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode("ascii") + payload


def get(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode("ascii")


def expect_health(status: int, body: bytes) -> str:
    return "ok" if status == 200 and b'"status":"ok"' in body else _label(status, body)


def expect_accept(status: int, body: bytes) -> str:
    return "ok" if status == 200 and b'"result":"accept"' in body else _label(status, body)


def expect_invalid_code(status: int, body: bytes) -> str:
    if status == 200 and b'"reason":"invalid_code"' in body:
        return "ok"
    return _label(status, body)


def _label(status: int, body: bytes) -> str:
    """A short label for an unexpected answer: the reason or error code if present."""
    try:
        data = json.loads(body)
    except ValueError:
        return f"http_{status}"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and "code" in error:
            return f"http_{status}:{error['code']}"
        if "result" in data:
            return f"{data['result']}:{data.get('reason')}"
    return f"http_{status}"


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    length = 0
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.index(b"\r\n", at + 2)
        length = int(lower[at + 17 : end])
    body = await reader.readexactly(length) if length else b""
    return status, body, b"\r\nconnection: close" in lower


async def _lane(
    port: int,
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    requests: list[bytes],
    check: Check,
    deadline: float,
    latencies: list[float],
    outcomes: Counter[str],
    sent: list[int],
    slot: int,
    last_done: list[float],
) -> None:
    reader, writer = conn
    clock = time.perf_counter
    try:
        for request in requests:
            if clock() >= deadline:
                break
            started = clock()
            writer.write(request)
            sent[slot] += 1
            status, body, closing = await _read_answer(reader)
            done = clock()
            outcome = check(status, body)
            outcomes[outcome] += 1
            if outcome == "ok":
                latencies.append(done - started)
            last_done[0] = max(last_done[0], done)
            if closing:
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
    finally:
        writer.close()


async def run(port: int, plan: Plan, seconds: float) -> RunResult:
    """Send the plan's requests; bounded by their count and by ``seconds``."""
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    sent = [0] * len(plan.lanes)
    async with asyncio.timeout(HARD_TIMEOUT_GRACE):
        conns = [await asyncio.open_connection(HOST, port) for _ in plan.lanes]
    cpu_before = time.process_time()
    started = time.perf_counter()
    last_done = [started]
    deadline = started + seconds
    lanes = [
        _lane(port, conns[i], reqs, plan.check, deadline, latencies, outcomes, sent, i, last_done)
        for i, reqs in enumerate(plan.lanes)
    ]
    try:
        async with asyncio.timeout(seconds + HARD_TIMEOUT_GRACE):
            await asyncio.gather(*lanes)
    except TimeoutError:
        outcomes["client_timeout"] += 1
    elapsed = last_done[0] - started
    return RunResult(
        kind=plan.kind,
        concurrency=len(plan.lanes),
        sent=sum(sent),
        ok=outcomes["ok"],
        elapsed=elapsed,
        latencies=latencies,
        outcomes=outcomes,
        client_cpu=time.process_time() - cpu_before,
        sent_per_lane=sent,
    )
