"""Sign-ins with a primary password checked by an LDAP bind, plus a code: HTTP and RADIUS.

Starts the test suite's throw-away slapd on loopback with ``--users`` users (offline
slapadd), adds it as the directory ``corp`` of a fresh Twostep (SQLite, and PostgreSQL when
its binaries are installed), syncs the users in, gives each a HOTP ``oath_token`` through
the services, and starts ``twostep serve --workers 2`` with RADIUS on and one RADIUS client
for 127.0.0.1 in ``password_and_code`` mode. Then for each security (StartTLS, LDAPS), each
repeat and each concurrency, back to back:

* (a) baseline: ``POST /v1/validate`` with a fresh code and no password (the code path);
* (b) ``POST /v1/validate`` with ``password`` + a fresh code: a bind as the user, then the
  code; only ``accept`` counts, anything else is an error;
* (c) RADIUS Access-Requests, ``User-Password = "password,code"`` from one NAS socket;
  only an Access-Accept with a valid Response Authenticator counts;
* (d) reference: raw binds/s from this process to the same slapd (``LdapConnector.bind``,
  the server's pooled bind, as many threads as the concurrency).

Codes are computed before each run and each is spent once (a lane owns its users, so a
user is never in flight twice). Every run is bounded by ``--requests`` and ``--seconds``.
Figures are medians of the repeats, with ratios to (a) taken per repeat; the CPU of the
server's process tree, slapd, PostgreSQL, this generator and the rest of the machine is
read from /proc for every run.

    .venv/bin/python -m bench.signin_binds                  # ~6-8 min on two cores
    .venv/bin/python -m bench.signin_binds --backend sqlite --security starttls

Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if not __package__:  # run as ``python bench/signin_binds.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import postgres
from tests.support.slapd import LdapUser, SlapdServer, SlapdTree

from bench import loadgen, report
from bench.directory_binds import measure
from bench.loadgen import Plan, RunResult
from bench.population import BENCH_SETTINGS, HOTP, SEED_BYTES, BenchUser, Population, build_app
from bench.radius import REPLY_TIMEOUT, _Endpoint
from bench.server import Server, cpu_since, system_busy_seconds, tree_cpu
from bench.validate import _on_sigterm, _split, database, wait_for_quiet
from twostep.adapters.directory.connector import LdapConnector
from twostep.domain.directory import BindResult, Directory, DirectorySettings
from twostep.domain.entities import RadiusMode
from twostep.interfaces.radius import packet
from twostep.services.admin import DEFAULT_TENANT, OPERATOR
from twostep.services.enroll import TokenSpec
from twostep.services.radius_clients import NewRadiusClient

HOST = "127.0.0.1"
DIRECTORY = "corp"
TARGET = 300.0  # accepted sign-ins/s, over HTTP and over RADIUS (issue 12)
KINDS = ("baseline", "http", "radius", "binds")
ROLES = ("server", "slapd", "postgres", "generator", "other")


# -- setup ---------------------------------------------------------------------------


@dataclass
class Setup:
    pop: Population
    passwords: list[str]  # the directory password of pop.users[i]
    radius_secret: bytes


def populate(home: Path, url: str | None, tree: SlapdTree, people: list[LdapUser]) -> Setup:
    """The directory added and synced as an admin would, then a token for every user."""
    started = time.perf_counter()
    app = build_app(home, url)
    tenant = app.admin.ensure_default_tenant()
    app.admin.update_settings(OPERATOR, DEFAULT_TENANT, BENCH_SETTINGS)
    _integration, key = app.admin.create_integration(OPERATOR, DEFAULT_TENANT, "bench")
    client = NewRadiusClient("bench-nas", HOST, mode=RadiusMode.PASSWORD_AND_CODE)
    created = app.radius_clients.create(OPERATOR, DEFAULT_TENANT, client)
    assert created.secret is not None
    # sync_interval 0: no scheduled sync runs during the measurements.
    settings = tree.ldap_settings(kind="ldap", sync_interval=0)
    app.directories.add(OPERATOR, DEFAULT_TENANT, DIRECTORY, settings.model_dump())
    synced = app.directory_sync.sync(OPERATOR, DEFAULT_TENANT, DIRECTORY)
    users = []
    for person in people:
        user = BenchUser(person.upn, secrets.token_bytes(SEED_BYTES))
        spec = TokenSpec(serial=f"S{person.name}", secret="hex:" + user.seed.hex(), params=HOTP)
        app.enroll.enroll_oath_token(OPERATOR, DEFAULT_TENANT, user.name, spec)
        users.append(user)
    elapsed = time.perf_counter() - started
    print(f"  sync: {synced}", flush=True)
    pop = Population(app, key, users, tenant.id, elapsed, "directory sync + services")
    return Setup(pop, [p.password for p in people], created.secret.encode())


def use_security(setup: Setup, tree: SlapdTree, security: str) -> DirectorySettings:
    """Point the directory at slapd's StartTLS or LDAPS port (the server starts after)."""
    values = {"urls": [tree.url(security)], "security": security}
    setup.pop.app.directories.update(OPERATOR, DEFAULT_TENANT, DIRECTORY, values)
    return tree.ldap_settings(kind="ldap", security=security, sync_interval=0)


def slapd_pid(slapd: SlapdServer) -> int | None:
    """slapd's process (its command line names its home), for the CPU accounting."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline[0].endswith(b"slapd") and str(slapd.home).encode() in b" ".join(cmdline):
                return int(entry.name)
    return None


# -- the work of one run: each lane owns its users, each request spends a fresh code -----


def lane_codes(pop: Population, level: int, total: int) -> list[list[tuple[int, str]]]:
    """(user index, code) per lane; lane ``i`` cycles through the users ``i`` mod ``level``."""
    lanes = []
    for lane, count in enumerate(_split(total, level)):
        mine = list(range(lane, len(pop.users), level))
        rounds = -(-count // len(mine))
        codes = {i: pop.users[i].codes(pop.users[i].next_counter, rounds) for i in mine}
        lanes.append(
            [
                (mine[k % len(mine)], codes[mine[k % len(mine)]][k // len(mine)])
                for k in range(count)
            ]
        )
    return lanes


def advance(pop: Population, lanes: list[list[tuple[int, str]]], sent: list[int]) -> None:
    """Move each user's counter past the codes sent (the server looks ahead, so a lost
    answer does not derail a user)."""
    for work, count in zip(lanes, sent, strict=True):
        for index, _code in work[:count]:
            pop.users[index].next_counter += 1


def http_plan(setup: Setup, port: int, lanes: list[list[tuple[int, str]]], password: bool) -> Plan:
    users, key = setup.pop.users, setup.pop.key

    def body(index: int, code: str) -> dict[str, str]:
        extra = {"password": setup.passwords[index]} if password else {}
        return {"user": users[index].name, **extra, "code": code}

    requests = [[loadgen.post(port, "/v1/validate", key, body(*w)) for w in lane] for lane in lanes]
    return Plan("http" if password else "baseline", requests, loadgen.expect_accept)


async def radius_run(
    port: int, setup: Setup, lanes: list[list[tuple[int, str]]], seconds: float
) -> RunResult:
    """Access-Requests from one socket (one NAS), one in flight per lane."""
    loop = asyncio.get_running_loop()
    transport, endpoint = await loop.create_datagram_endpoint(_Endpoint, remote_addr=(HOST, port))
    secret, users = setup.radius_secret, setup.pop.users
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    sent = [0] * len(lanes)
    clock = time.perf_counter
    started = clock()
    deadline, last = started + seconds, [started]

    async def lane(slot: int, work: list[tuple[int, str]]) -> None:
        for index, code in work:
            if clock() >= deadline:
                return
            ident, authenticator = endpoint.free.pop(), secrets.token_bytes(16)
            typed = f"{setup.passwords[index]},{code}".encode()
            attributes = [
                (packet.USER_NAME, users[index].name.encode()),
                (packet.USER_PASSWORD, packet.hide_password(typed, authenticator, secret)),
                (packet.NAS_IP_ADDRESS, bytes((127, 0, 0, 1))),
            ]
            future = loop.create_future()
            endpoint.waiting[ident] = future
            began = clock()
            transport.sendto(packet.sign_request(ident, authenticator, attributes, secret))
            sent[slot] += 1
            try:
                reply = await asyncio.wait_for(future, REPLY_TIMEOUT)
            except TimeoutError:
                endpoint.waiting.pop(ident, None)
                outcomes["no reply"] += 1
            else:
                last[0] = clock()
                if not packet.response_valid(reply, authenticator, secret):
                    outcomes["bad response authenticator"] += 1
                elif reply[0] == packet.ACCESS_ACCEPT:
                    outcomes["ok"] += 1
                    latencies.append(last[0] - began)
                else:
                    outcomes[f"code {reply[0]}"] += 1
            finally:
                endpoint.free.insert(0, ident)

    cpu = time.process_time()
    try:
        async with asyncio.timeout(seconds + loadgen.HARD_TIMEOUT_GRACE):
            await asyncio.gather(*(lane(i, work) for i, work in enumerate(lanes)))
    except TimeoutError:
        outcomes["client_timeout"] += 1
    finally:
        transport.close()
    return RunResult(
        "radius",
        len(lanes),
        sum(sent),
        outcomes["ok"],
        last[0] - started,
        latencies,
        outcomes,
        time.process_time() - cpu,
        sent,
    )


def raw_binds(
    settings: DirectorySettings, people: list[LdapUser], threads: int, seconds: float, count: int
) -> RunResult:
    """(d): ``LdapConnector.bind`` (the server's pooled bind) from ``threads`` threads."""
    connector = LdapConnector()
    corp = Directory(id="bench-reference", tenant_id=1, name=DIRECTORY, settings=settings)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()

    def one(i: int) -> None:
        person = people[i % len(people)]
        began = time.perf_counter()
        result = connector.bind(corp, person.dn, person.password)
        if result is BindResult.OK:
            latencies.append(time.perf_counter() - began)
        outcomes["ok" if result is BindResult.OK else result.value] += 1

    try:
        run = measure("binds", threads, one, seconds, count)
    finally:
        connector.close()
    return RunResult(
        "binds", threads, run.count, outcomes["ok"], run.elapsed, latencies, outcomes, run.cpu, []
    )


# -- measuring -------------------------------------------------------------------------


@dataclass
class Sample:
    security: str
    repeat: int
    run: RunResult
    cores: dict[str, float] = field(default_factory=dict)
    attempt: int = 1


@dataclass
class Bench:
    args: argparse.Namespace
    backend: str
    setup: Setup
    server: Server
    radius_port: int
    slapd: int | None
    people: list[LdapUser]
    loop: asyncio.Runner
    samples: list[Sample] = field(default_factory=list)

    def run(self, kind: str, level: int, total: int, settings: DirectorySettings) -> RunResult:
        pop, seconds = self.setup.pop, self.args.seconds
        if kind == "binds":
            return raw_binds(settings, self.people, level, seconds, total)
        lanes = lane_codes(pop, level, total)
        if kind == "radius":
            result = self.loop.run(radius_run(self.radius_port, self.setup, lanes, seconds))
        else:
            plan = http_plan(self.setup, self.server.port, lanes, password=kind == "http")
            result = self.loop.run(loadgen.run(self.server.port, plan, seconds))
        advance(pop, lanes, result.sent_per_lane)
        return result

    def measured(
        self, kind: str, level: int, total: int, settings: DirectorySettings
    ) -> tuple[RunResult, dict[str, float]]:
        roots = {"server": self.server.pid, "slapd": self.slapd, "postgres": self.server.db_pid}
        before = {role: tree_cpu(pid) for role, pid in roots.items()}
        busy = system_busy_seconds()
        result = self.run(kind, level, total, settings)
        used = {role: cpu_since(pid, before[role]) for role, pid in roots.items()}
        used["generator"] = result.client_cpu
        used["other"] = max(0.0, system_busy_seconds() - busy - sum(used.values()))
        result.server_cpu, result.db_cpu, result.other_cpu = (
            used["server"],
            used["postgres"],
            used["other"],
        )
        elapsed = result.elapsed or float("nan")
        return result, {role: used[role] / elapsed for role in ROLES}

    def checks(self, settings: DirectorySettings) -> None:
        """The right password and a fresh code: accept; a wrong password with a fresh
        code: reject ``invalid_password``, on both ways in. (A synced user has no local
        password, so an accept means the bind as the user succeeded.)"""
        pop, port = self.setup.pop, self.server.port
        right = self.run("http", 1, 1, settings)
        user, passwords = pop.users[0], self.setup.passwords
        code = user.codes(user.next_counter, 1)[0]
        body = {"user": user.name, "password": passwords[0] + "x", "code": code}

        def refused(status: int, answer: bytes) -> str:
            ok = status == 200 and b'"reason":"invalid_password"' in answer
            return "ok" if ok else loadgen.expect_accept(status, answer)

        plan = Plan("wrong", [[loadgen.post(port, "/v1/validate", pop.key, body)]], refused)
        wrong = self.loop.run(loadgen.run(port, plan, 10.0))
        saved, passwords[0] = passwords[0], passwords[0] + "x"
        try:
            wrong_radius = self.run("radius", 1, 1, settings)
        finally:
            passwords[0] = saved
        radius_right = self.run("radius", 1, 1, settings)
        refused_radius = wrong_radius.outcomes == Counter({f"code {packet.ACCESS_REJECT}": 1})
        if not (right.ok == wrong.ok == radius_right.ok == 1 and refused_radius):
            raise RuntimeError(
                f"checks failed: http right {dict(right.outcomes)}, wrong {dict(wrong.outcomes)}, "
                f"radius right {dict(radius_right.outcomes)}, wrong {dict(wrong_radius.outcomes)}"
            )
        pop.unlock_all()
        print("  checks: the right password is accepted, a wrong one refused (HTTP, RADIUS)")

    def security(self, security: str, settings: DirectorySettings) -> None:
        args = self.args
        for kind in ("baseline", "http", "radius", "binds"):  # warm-up, not reported
            self.run(kind, 16, 300, settings)
        self.checks(settings)
        for repeat in range(1, args.repeat + 1):
            for level in args.levels:
                self.samples += self.block(security, repeat, level, settings)

    def block(
        self, security: str, repeat: int, level: int, settings: DirectorySettings
    ) -> list[Sample]:
        """(a)-(d) back to back, after a wait for quiet. Another process busy during the
        block (more than --max-other cores in any of its runs) spoils the ratios: the
        block is measured again, up to --attempts times, and the quietest attempt kept."""
        args, kept = self.args, list[Sample]()
        for attempt in range(1, args.attempts + 1):
            waited = time.monotonic()
            with contextlib.redirect_stdout(io.StringIO()):  # its per-second lines
                others = wait_for_quiet(self.server, args.quiet_wait)
            waited = time.monotonic() - waited
            self.setup.pop.unlock_all()
            print(
                f"  r{repeat} c{level} attempt {attempt}: waited {waited:.0f}s for quiet "
                f"(others {others:.2f} cores)",
                flush=True,
            )
            block = []
            for kind in KINDS:
                result, cores = self.measured(kind, level, args.requests, settings)
                block.append(Sample(security, repeat, result, cores, attempt))
                _print_run(result, cores)
            if not kept or _noise(block) < _noise(kept):
                kept = block
            if _noise(block) <= args.max_other:
                break
            again = "measuring again" if attempt < args.attempts else "keeping the quietest"
            print(f"    others used {_noise(block):.2f} cores: {again}", flush=True)
        return kept


def _noise(block: list[Sample]) -> float:
    return max(s.cores["other"] for s in block)


def _print_run(result: RunResult, cores: dict[str, float]) -> None:
    bad = {k: v for k, v in result.outcomes.items() if k != "ok"}
    split = " ".join(f"{role} {cores[role]:.2f}" for role in ROLES)
    print(
        f"    {result.kind:<8} {result.rate:>7,.0f}/s  p50 {result.percentile(50):6.2f} ms  "
        f"p99 {result.percentile(99):6.2f} ms  sent {result.sent:>5}  cores: {split}"
        + (f"  NOT OK: {bad}" if bad else ""),
        flush=True,
    )


# -- summary ---------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(backend: str, samples: list[Sample]) -> list[dict[str, Any]]:
    rows = []
    keys = sorted({(s.security, s.run.concurrency) for s in samples})
    for security, level in keys:
        mine = [s for s in samples if (s.security, s.run.concurrency) == (security, level)]
        base = {s.repeat: s.run.rate for s in mine if s.run.kind == "baseline"}
        row: dict[str, Any] = {"backend": backend, "security": security, "concurrency": level}
        for kind in KINDS:
            runs = [s for s in mine if s.run.kind == kind]
            rate = _median([s.run.rate for s in runs])
            row[kind] = {
                "rate": rate,
                "ratio": _median([s.run.rate / base[s.repeat] for s in runs if base[s.repeat]]),
                "p50_ms": _median([s.run.percentile(50) for s in runs]),
                "p99_ms": _median([s.run.percentile(99) for s in runs]),
                "errors": sum(s.run.sent - s.run.ok for s in runs),
                "rates": [round(s.run.rate, 1) for s in runs],
                "cores": {r: round(_median([s.cores[r] for s in runs]), 3) for r in ROLES},
            }
            # CPU per accepted operation, in ms: where the time goes.
            row[kind]["ms_per_op"] = {
                r: round(1000 * c / rate, 3) if rate else None
                for r, c in row[kind]["cores"].items()
            }
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'backend':<9}{'tls':<9}{'c':>3} | {'kind':<8}{'per s':>8}{'x (a)':>7}"
        f"{'p50':>7}{'p99':>7}{'err':>5} | {'server':>6}{'slapd':>6}{'pg':>5}{'gen':>5}"
        f"{'other':>6} | {'srv ms':>7}{'slapd ms':>9}"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        for kind in KINDS:
            k = row[kind]
            cores, per_op = k["cores"], k["ms_per_op"]
            lines.append(
                f"{row['backend']:<9}{row['security']:<9}{row['concurrency']:>3} | "
                f"{kind:<8}{k['rate']:>8,.0f}{k['ratio']:>7.2f}{k['p50_ms']:>7.2f}"
                f"{k['p99_ms']:>7.2f}{k['errors']:>5} | {cores['server']:>6.2f}"
                f"{cores['slapd']:>6.2f}{cores['postgres']:>5.2f}{cores['generator']:>5.2f}"
                f"{cores['other']:>6.2f} | {per_op['server'] or 0:>7.3f}"
                f"{per_op['slapd'] or 0:>9.3f}"
            )
    lines.append(
        "medians of the repeats; x (a) = rate / baseline rate of the same repeat (median); "
        "latencies in ms; err = answers not accept, summed; cores = CPU used during the runs "
        "(binds: the generator is this process binding); srv ms / slapd ms = CPU per "
        "accepted sign-in (or bind)"
    )
    return "\n".join(lines)


def verdicts(rows: list[dict[str, Any]]) -> list[str]:
    found = []
    for row in rows:
        if row["concurrency"] != 16:
            continue
        for kind in ("http", "radius"):
            rate = row[kind]["rate"]
            found.append(
                f"{row['backend']} {row['security']} c16 {kind}: {rate:,.0f} accepted/s "
                f"(target >= {TARGET:,.0f}): {'MET' if rate >= TARGET else 'NOT MET'}"
            )
    return found


# -- main ------------------------------------------------------------------------------


@contextmanager
def directory(users: int) -> Iterator[tuple[SlapdServer, SlapdTree, list[LdapUser]]]:
    slapd = SlapdServer.create()
    try:
        tree = slapd.new_tree()
        started = time.perf_counter()
        people = tree.bulk_users(users)
        print(f"slapd: {len(people):,} users loaded in {time.perf_counter() - started:.1f}s")
        yield slapd, tree, people
    finally:
        slapd.destroy()


def one_backend(
    args: argparse.Namespace,
    backend: str,
    ldap: tuple[SlapdServer, SlapdTree, list[LdapUser]],
    loop: asyncio.Runner,
) -> list[Sample]:
    slapd, tree, people = ldap
    home = Path(tempfile.mkdtemp(prefix=f"twostep-bench-binds-{backend}-"))
    try:
        with database(backend) as (url, db_pid):
            setup = populate(home, url, tree, people)
            print(
                f"[{backend}] {len(people):,} users synced and given a HOTP token in "
                f"{setup.pop.setup_seconds:.1f}s",
                flush=True,
            )
            radius_port = postgres.free_port()
            os.environ.update(
                TWOSTEP_RADIUS="on", TWOSTEP_RADIUS_HOST=HOST, TWOSTEP_RADIUS_PORT=str(radius_port)
            )
            samples: list[Sample] = []
            try:
                for security in args.securities:
                    settings = use_security(setup, tree, security)
                    server = Server(home, postgres.free_port(), args.workers, url, db_pid)
                    bench = Bench(
                        args, backend, setup, server, radius_port, slapd_pid(slapd), people, loop
                    )
                    try:
                        server.start()
                        print(f"[{backend}] {security}: server code {report.commit()}", flush=True)
                        bench.security(security, settings)
                    finally:
                        server.stop()
                    samples += bench.samples
            finally:
                setup.pop.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return samples


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--security", default="starttls,ldaps", help="starttls,ldaps")
    parser.add_argument("--users", type=int, default=1_000, help="directory users [1000]")
    parser.add_argument("--concurrency", default="16,1", help="in flight, comma-separated")
    parser.add_argument("--requests", type=int, default=3_000, help="requests per run [3000]")
    parser.add_argument("--seconds", type=float, default=3.0, help="time limit per run [3]")
    parser.add_argument("--repeat", type=int, default=3, help="repeats [3]")
    parser.add_argument("--workers", type=int, default=2, help="server workers [2]")
    parser.add_argument("--quiet-wait", type=float, default=120.0, help="wait for idle [120]")
    parser.add_argument(
        "--max-other",
        type=float,
        default=0.25,
        help="measure a block again when other processes used more cores than this [0.25]",
    )
    parser.add_argument("--attempts", type=int, default=3, help="attempts per block [3]")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.securities = [s.strip() for s in args.security.split(",") if s.strip()]
    if not args.levels or min(args.levels) < 1 or max(args.levels) > 200:
        parser.error("--concurrency: 1 to 200")
    if not set(args.securities) <= {"starttls", "ldaps"} or not args.securities:
        parser.error("--security: starttls and/or ldaps")
    if not (max(args.levels) <= args.users <= 100_000 and 1 <= args.repeat <= 20):
        parser.error("--users: the highest concurrency to 100000; --repeat 1-20")
    if not (1 <= args.attempts <= 10 and 0 < args.max_other <= 2):
        parser.error("--attempts 1-10, --max-other 0-2")
    if not (1 <= args.requests <= 1_000_000 and 0.1 <= args.seconds <= 600):
        parser.error("--requests 1-1000000, --seconds 0.1-600")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if args.backend == "both" and postgres.find_bindir() is None:
        print("PostgreSQL is not installed: SQLite only")
        backends = ["sqlite"]
    machine = report.machine()
    print(
        f"machine: {machine['cpus']} CPU(s), {machine['cpu_model']}, Python "
        f"{machine['python']}; commit {machine['commit']}; load {os.getloadavg()}",
        flush=True,
    )
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    with directory(args.users) as ldap, asyncio.Runner() as loop:
        for backend in backends:
            samples = one_backend(args, backend, ldap, loop)
            rows += summarize(backend, samples)
            runs += [
                {
                    "backend": backend,
                    "security": s.security,
                    "repeat": s.repeat,
                    **s.run.summary(),
                    "cores": s.cores,
                    "attempt": s.attempt,
                }
                for s in samples
            ]
    print()
    print(table(rows))
    for line in verdicts(rows):
        print(line)
    print(f"total time {time.monotonic() - started:.0f}s")
    if args.json:
        output = {"machine": machine, "argv": sys.argv, "rows": rows, "runs": runs}
        args.json.write_text(json.dumps(output, indent=2, default=str))
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
