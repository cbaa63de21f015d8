"""RADIUS throughput and latency on loopback, and a fuzz run.

Creates N users, each with a confirmed ``app_code`` (TOTP) method, a RADIUS client for
127.0.0.1 in second-factor mode, and starts ``twostep serve --workers 2`` with
``TWOSTEP_RADIUS=on`` (SQLite, the embedded default). Then, for each repeat, it sends
Access-Requests with ``--concurrency`` requests in flight, each with Message-Authenticator
and a valid TOTP code computed at send time. The default case is one NAS: every request
from one UDP socket (one source port), as a VPN concentrator sends them, so the figure
shows whether one NAS can use every worker; ``--sources 16`` spreads them over 16 source
ports instead. A TOTP code is one-time per time step, so each user is used for the
current step and the next one (both within the server's window) and the generator moves
through many users. Only Access-Accept counts as success; the Response Authenticator of
every reply is checked. After each run, a Status-Server run from the same sockets is the
baseline (datagram in, Message-Authenticator checked, signed reply out; no database).
Every run is bounded by a request count and a time limit; the figures are medians over
the repeats, with their ratio to the baseline.

The fuzz run then sends ``--fuzz`` datagrams (random bytes, truncations, bit flips, bad
lengths, other codes, and correctly signed packets with garbage attributes or wrong
codes for real users), counts the replies by code (no Access-Accept may come back),
checks the server's process tree is intact and its log has no traceback, and that a good
request is still accepted afterwards.

    .venv/bin/python -m bench.radius                        # one NAS, 16 in flight; ~2 min
    .venv/bin/python -m bench.radius --fuzz 0 --repeat 5    # the figures only, ~1 min
    .venv/bin/python -m bench.radius --sources 16 --fuzz 0  # 16 NAS source ports
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import statistics
import struct
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if not __package__:  # run as ``python bench/radius.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select
from tests.support import postgres

from bench import report
from bench.population import BENCH_SETTINGS, build_app
from bench.server import Server, cpu_since, system_busy_seconds, tree_cpu
from bench.validate import wait_for_quiet
from twostep.adapters.storage import tables
from twostep.bootstrap import App
from twostep.domain.entities import OtpParams
from twostep.domain.names import name_key
from twostep.domain.ports.users import NewUser
from twostep.factors import otp
from twostep.interfaces.radius import packet
from twostep.services.admin import DEFAULT_TENANT, OPERATOR
from twostep.services.context import method_context
from twostep.services.radius_clients import NewRadiusClient

HOST = "127.0.0.1"
REPLY_TIMEOUT = 2.0
CHUNK = 5_000


# -- population ---------------------------------------------------------------------


@dataclass
class TotpUser:
    name: str
    seed: bytes
    params: OtpParams
    next_step: int = 0  # the next step this user's code may be sent for


@dataclass
class Setup:
    app: App
    users: list[TotpUser]
    secret: bytes
    seconds: float


def populate(home: Path, count: int) -> Setup:
    """The first user through the services (create, enroll, confirm), the others cloned
    from its rows with their own seed, sealed as the service seals it."""
    started = time.perf_counter()
    app = build_app(home, None)
    tenant = app.admin.ensure_default_tenant()
    app.admin.update_settings(OPERATOR, DEFAULT_TENANT, BENCH_SETTINGS)
    created = app.radius_clients.create(OPERATOR, DEFAULT_TENANT, NewRadiusClient("bench", HOST))
    assert created.secret is not None
    first = "rbench-000000"
    app.admin.create_user(OPERATOR, DEFAULT_TENANT, NewUser(name=first))
    enrollment = app.enroll.enroll_app_code(OPERATOR, DEFAULT_TENANT, first)
    params = enrollment.method.otp
    assert params is not None
    seed = otp.parse_seed(enrollment.otpauth_uri.split("secret=")[1].split("&")[0])
    step = otp.time_step(time.time(), params.period)
    app.enroll.confirm(
        OPERATOR, DEFAULT_TENANT, first, enrollment.method.id, otp.hotp(seed, params, step - 1)
    )
    users = [TotpUser(first, seed, params, step)]
    u, m = tables.users, tables.methods
    with app.storage.engine.connect() as conn:
        ref_user = conn.execute(select(u).where(u.c.name == first)).one()._asdict()
        ref_method = conn.execute(select(m).where(m.c.user_id == ref_user["id"])).one()._asdict()
    for start in range(1, count, CHUNK):
        names = [f"rbench-{i:06d}" for i in range(start, min(start + CHUNK, count))]
        now = app.deps.clock.now()
        ids = {name: uuid.uuid4().hex for name in names}
        seeds = {name: secrets.token_bytes(len(seed)) for name in names}
        user_rows = [
            {
                **ref_user,
                "id": None,
                "name": n,
                "name_key": name_key(n),  # what lookups compare: unique per tenant
                "default_method_id": ids[n],
                "created_at": now,
            }
            for n in names
        ]
        for row in user_rows:
            del row["id"]
        with app.storage.engine.begin() as conn:
            conn.execute(u.insert(), user_rows)
            found = conn.execute(
                select(u.c.name, u.c.id).where(u.c.tenant_id == tenant.id, u.c.name.in_(names))
            )
            user_ids = {name: user_id for name, user_id in found}
            conn.execute(
                m.insert(),
                [
                    {
                        **ref_method,
                        "id": ids[n],
                        "user_id": user_ids[n],
                        "seed": app.deps.secrets.seal(seeds[n], method_context(ids[n])),
                        "last_step": -1,
                        "created_at": now,
                        "confirmed_at": now,
                    }
                    for n in names
                ],
            )
        users += [TotpUser(n, seeds[n], params) for n in names]
    return Setup(app, users, created.secret.encode(), time.perf_counter() - started)


# -- the load generator -------------------------------------------------------------


class Users:
    """Hands out (user, step) pairs the server accepts: each user once per step, for
    the current step and the next one."""

    def __init__(self, users: list[TotpUser]) -> None:
        self.users = users
        self.cursor = 0

    def take(self) -> tuple[TotpUser, int] | None:
        now_step = otp.time_step(time.time(), self.users[0].params.period)
        for _ in range(len(self.users)):
            user = self.users[self.cursor]
            self.cursor = (self.cursor + 1) % len(self.users)
            step = max(user.next_step, now_step)
            if step <= now_step + 1:
                user.next_step = step + 1
                return user, step
        return None


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[bytes]] = {}
        self.free = list(range(256))
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if len(data) >= 2:
            future = self.waiting.pop(data[1], None)
            if future is not None and not future.done():
                future.set_result(data)


@dataclass
class Run:
    sources: int
    concurrency: int
    sent: int = 0
    ok: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    other_cpu: float = 0.0  # everything else on the machine meanwhile

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000


async def load(
    port: int, setup: Setup, users: Users, args: argparse.Namespace, *, status: bool = False
) -> Run:
    """Access-Requests with valid codes; with ``status``, Status-Server requests instead:
    the baseline (datagram in, Message-Authenticator checked, signed reply out, no database)."""
    loop = asyncio.get_running_loop()
    endpoints = []
    for _ in range(args.sources):
        _transport, endpoint = await loop.create_datagram_endpoint(
            _Endpoint, remote_addr=(HOST, port)
        )
        endpoints.append(endpoint)
    run = Run(args.sources, args.concurrency)
    deadline = time.perf_counter() + args.seconds
    budget = [args.requests]

    async def lane(endpoint: _Endpoint) -> None:
        while budget[0] > 0 and time.perf_counter() < deadline:
            pair = None if status else users.take()
            if pair is None and not status:
                run.outcomes["users exhausted for this step"] += 1
                await asyncio.sleep(0.5)
                continue
            budget[0] -= 1
            ident = endpoint.free.pop()
            authenticator = secrets.token_bytes(16)
            data = _request(setup, pair, ident, authenticator)
            future = loop.create_future()
            endpoint.waiting[ident] = future
            sent_at = time.perf_counter()
            assert endpoint.transport is not None
            endpoint.transport.sendto(data)
            run.sent += 1
            try:
                reply = await asyncio.wait_for(future, REPLY_TIMEOUT)
            except TimeoutError:
                endpoint.waiting.pop(ident, None)
                run.outcomes["no reply"] += 1
            else:
                latency = time.perf_counter() - sent_at
                if not packet.response_valid(reply, authenticator, setup.secret):
                    run.outcomes["bad response authenticator"] += 1
                elif reply[0] == packet.ACCESS_ACCEPT:
                    run.ok += 1
                    run.latencies.append(latency)
                else:
                    run.outcomes[f"code {reply[0]}"] += 1
            endpoint.free.insert(0, ident)

    cpu_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(lane(endpoints[i % len(endpoints)]) for i in range(args.concurrency)))
    run.elapsed = time.perf_counter() - started
    run.client_cpu = time.process_time() - cpu_before
    for endpoint in endpoints:
        assert endpoint.transport is not None
        endpoint.transport.close()
    return run


def _request(
    setup: Setup, pair: tuple[TotpUser, int] | None, ident: int, authenticator: bytes
) -> bytes:
    """An Access-Request with the user's code for ``step``; None: a Status-Server."""
    if pair is None:
        return packet.sign_request(ident, authenticator, [], setup.secret, packet.STATUS_SERVER)
    user, step = pair
    code = otp.hotp(user.seed, user.params, step).encode()
    hidden = packet.hide_password(code, authenticator, setup.secret)
    attributes = [
        (packet.USER_NAME, user.name.encode()),
        (packet.USER_PASSWORD, hidden),
        (packet.NAS_IP_ADDRESS, bytes((127, 0, 0, 1))),
        (packet.CALLING_STATION_ID, b"198.51.100.7"),
    ]
    return packet.sign_request(ident, authenticator, attributes, setup.secret)


# -- fuzz -----------------------------------------------------------------------------


def fuzz_packet(rng: random.Random, setup: Setup, users: list[TotpUser]) -> bytes:
    """One hostile datagram. Real users get only codes outside their current window."""
    user = rng.choice(users)
    now_step = otp.time_step(time.time(), user.params.period)
    valid = {otp.hotp(user.seed, user.params, s) for s in range(now_step - 2, now_step + 3)}
    code = next(c for c in (f"{rng.randrange(10**6):06d}" for _ in range(100)) if c not in valid)
    authenticator = rng.randbytes(16)
    base = packet.sign_request(
        rng.randrange(256),
        authenticator,
        [
            (packet.USER_NAME, user.name.encode()),
            (
                packet.USER_PASSWORD,
                packet.hide_password(code.encode(), authenticator, setup.secret),
            ),
        ],
        setup.secret,
    )
    data = bytearray(base)
    kind = rng.randrange(9)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 300))
    if kind == 1:
        return bytes(data[: rng.randrange(len(data))])
    if kind == 2:
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    if kind == 3:
        struct.pack_into(
            "!H", data, 2, rng.choice([0, 1, 19, 20, len(data) - 1, len(data) + 1, 4097, 65535])
        )
        return bytes(data)
    if kind == 4:
        data[20 + 1 + rng.choice([0, 18])] = rng.choice([0, 1, 2, 3, 200, 255])
        return bytes(data)
    if kind == 5:
        data[0] = rng.choice([0, 2, 3, 4, 5, 11, 13, 40, 43, 255])
        return bytes(data)
    if kind == 6:  # signed, with garbage attributes (the decoder's and handler's turn)
        attrs = [(rng.randrange(256), rng.randbytes(rng.randrange(0, 60))) for _ in range(6)]
        attrs = [(k, v) for k, v in attrs if k != packet.MESSAGE_AUTHENTICATOR]
        return packet.sign_request(rng.randrange(256), rng.randbytes(16), attrs, setup.secret)
    if kind == 7:  # signed, wrong code or odd password for a real or an unknown user
        name = user.name if rng.random() < 0.5 else rng.randbytes(rng.randrange(1, 40)).hex()
        pw = rng.choice([code, "", "push", "x" * 100, rng.randbytes(20).hex()]).encode()
        auth = rng.randbytes(16)
        return packet.sign_request(
            rng.randrange(256),
            auth,
            [(1, name.encode()), (2, packet.hide_password(pw, auth, setup.secret))],
            setup.secret,
        )
    return bytes(data) + rng.randbytes(rng.randrange(1, 60))  # trailing octets


async def fuzz(port: int, setup: Setup, count: int, rate: float) -> Counter[str]:
    loop = asyncio.get_running_loop()
    replies: Counter[str] = Counter()

    class Catch(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            replies[
                {2: "accept", 3: "reject", 11: "challenge"}.get(data[0], f"code {data[0]}")
            ] += 1

    transport, _ = await loop.create_datagram_endpoint(Catch, remote_addr=(HOST, port))
    rng = random.Random(1812)
    started = time.perf_counter()
    for i in range(count):
        transport.sendto(fuzz_packet(rng, setup, setup.users[:1000]))
        ahead = (i + 1) / rate - (time.perf_counter() - started)
        if ahead > 0.001:
            await asyncio.sleep(ahead)
    await asyncio.sleep(2.0)
    transport.close()
    return replies


# -- main -------------------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=20_000, help="users with app_code [20000]")
    parser.add_argument("--requests", type=int, default=6_000, help="requests per run [6000]")
    parser.add_argument("--seconds", type=float, default=4.0, help="time limit per run [4]")
    parser.add_argument("--repeat", type=int, default=3, help="runs [3]")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight [16]")
    parser.add_argument(
        "--sources", type=int, default=1, help="NAS source ports [1: one NAS, one socket]"
    )
    parser.add_argument("--workers", type=int, default=2, help="server workers [2]")
    parser.add_argument("--fuzz", type=int, default=100_000, help="fuzz datagrams [100000]")
    parser.add_argument("--fuzz-rate", type=float, default=5_000.0, help="datagrams/s [5000]")
    parser.add_argument(
        "--quiet-wait", type=float, default=120.0, help="wait for other processes to idle [120]"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not (1 <= args.repeat <= 20 and 1 <= args.requests <= 1_000_000):
        parser.error("--repeat 1-20, --requests 1-1000000")
    if not (1 <= args.sources <= 64 and 1 <= args.concurrency <= 200 * args.sources):
        parser.error("--sources 1-64, --concurrency at most 200 per source")
    if not 1 <= args.workers <= 64:
        parser.error("--workers 1-64")
    if not 0.1 <= args.seconds <= 600 or not 0 <= args.fuzz <= 1_000_000:
        parser.error("--seconds 0.1-600, --fuzz 0-1000000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    machine = report.machine()
    print(f"machine: {machine['cpus']} CPU(s), {machine['cpu_model']}, commit {machine['commit']}")
    home = Path(tempfile.mkdtemp(prefix="twostep-bench-radius-"))
    output: dict[str, Any] = {"machine": machine, "argv": sys.argv, "runs": []}
    try:
        setup = populate(home, args.users)
        print(f"{len(setup.users):,} users with app_code created in {setup.seconds:.1f}s")
        radius_port = postgres.free_port()
        os.environ.update(TWOSTEP_RADIUS="on", TWOSTEP_RADIUS_PORT=str(radius_port))
        server = Server(home, postgres.free_port(), args.workers, None)
        try:
            server.start()
            print("\n".join(f"  | {line}" for line in server.output().splitlines()))
            users = Users(setup.users)
            runs, baselines = _measure(radius_port, setup, users, server, args)
            output["runs"] = [_summary(r) for r in runs]
            output["baseline_status_server"] = [_summary(r) for r in baselines]
            output["median"] = _medians(runs, baselines)
            if args.fuzz:
                output["fuzz"] = _fuzz(radius_port, setup, users, server, args)
        finally:
            server.stop()
            setup.app.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(output, indent=2, default=str))
    return 0


def _measure(
    port: int, setup: Setup, users: Users, server: Server, args: argparse.Namespace
) -> tuple[list[Run], list[Run]]:
    warm = argparse.Namespace(**{**vars(args), "requests": 1_000, "seconds": 2.0})
    asyncio.run(load(port, setup, users, warm))
    runs: list[Run] = []
    baselines: list[Run] = []
    for repeat in range(1, args.repeat + 1):
        wait_for_quiet(server, args.quiet_wait)
        before, busy = tree_cpu(server.pid), system_busy_seconds()
        run = asyncio.run(load(port, setup, users, args))
        run.server_cpu = cpu_since(server.pid, before)
        run.other_cpu = max(0.0, system_busy_seconds() - busy - run.server_cpu - run.client_cpu)
        bad = dict(run.outcomes)
        print(
            f"  r{repeat} sources {run.sources} in-flight {run.concurrency}: {run.rate:,.0f}/s  "
            f"p50 {run.percentile(50):.2f} ms  p99 {run.percentile(99):.2f} ms  sent {run.sent}  "
            f"cores: server {run.server_cpu / run.elapsed:.2f} "
            f"client {run.client_cpu / run.elapsed:.2f} others {run.other_cpu / run.elapsed:.2f}"
            + (f"  NOT OK: {bad}" if bad else ""),
            flush=True,
        )
        runs.append(run)
        baseline = asyncio.run(load(port, setup, users, args, status=True))
        print(
            f"     baseline Status-Server: {baseline.rate:,.0f}/s  "
            f"p99 {baseline.percentile(99):.2f} ms  "
            f"ratio {run.rate / baseline.rate if baseline.rate else float('nan'):.3f}",
            flush=True,
        )
        baselines.append(baseline)
    return runs, baselines


def _medians(runs: list[Run], baselines: list[Run]) -> dict[str, float]:
    """The medians over the repeats, and their ratios to the Status-Server baseline."""

    def median(values: list[float]) -> float:
        return statistics.median(values)

    figures = {
        "rate": median([r.rate for r in runs]),
        "p50_ms": median([r.percentile(50) for r in runs]),
        "p99_ms": median([r.percentile(99) for r in runs]),
        "server_cores": median([r.server_cpu / r.elapsed for r in runs if r.elapsed]),
        "baseline_rate": median([r.rate for r in baselines]),
        "baseline_p50_ms": median([r.percentile(50) for r in baselines]),
        "baseline_p99_ms": median([r.percentile(99) for r in baselines]),
    }
    figures["ratio"] = figures["rate"] / figures["baseline_rate"]
    figures["p99_ratio"] = figures["p99_ms"] / figures["baseline_p99_ms"]
    met = figures["rate"] >= 1500 and figures["p99_ms"] < 25
    print(
        f"median of {len(runs)}: {figures['rate']:,.0f} Access-Accepts/s, "
        f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
        f"server {figures['server_cores']:.2f} cores "
        f"(target >= 1,500/s and p99 < 25 ms: {'met' if met else 'NOT met'})\n"
        f"baseline Status-Server (same runs, no database): {figures['baseline_rate']:,.0f}/s, "
        f"p99 {figures['baseline_p99_ms']:.2f} ms; Access-Accepts/s = "
        f"{figures['ratio']:.3f} x baseline, p99 = {figures['p99_ratio']:.1f} x baseline"
    )
    return figures


def _fuzz(
    port: int, setup: Setup, users: Users, server: Server, args: argparse.Namespace
) -> dict[str, Any]:
    started = time.perf_counter()
    replies = asyncio.run(fuzz(port, setup, args.fuzz, args.fuzz_rate))
    elapsed = time.perf_counter() - started
    log = server.output()
    crashes = log.count("Traceback") + log.count("exited (status")
    alive = server.process is not None and server.process.poll() is None
    check = argparse.Namespace(**{**vars(args), "requests": 20, "seconds": 5.0, "concurrency": 1})
    after = asyncio.run(load(port, setup, users, check))
    print(
        f"fuzz: {args.fuzz:,} datagrams in {elapsed:.1f}s; replies {dict(replies)}; "
        f"accepts {replies['accept']}; crashes {crashes}; server alive {alive}; "
        f"good requests accepted afterwards {after.ok}/{after.sent}"
    )
    return {
        "datagrams": args.fuzz,
        "seconds": elapsed,
        "replies": dict(replies),
        "accepts": replies["accept"],
        "crashes": crashes,
        "alive": alive,
        "accepted_after": after.ok,
    }


def _summary(run: Run) -> dict[str, Any]:
    return {
        "sources": run.sources,
        "in_flight": run.concurrency,
        "sent": run.sent,
        "ok": run.ok,
        "rate": run.rate,
        "p50_ms": run.percentile(50),
        "p99_ms": run.percentile(99),
        "server_cores": run.server_cpu / run.elapsed if run.elapsed else None,
        "client_cores": run.client_cpu / run.elapsed if run.elapsed else None,
        "other_cores": run.other_cpu / run.elapsed if run.elapsed else None,
        "outcomes": dict(run.outcomes),
    }


if __name__ == "__main__":
    sys.exit(main())
