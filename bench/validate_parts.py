"""Where an accepted validation's CPU goes, without a profiler: each part timed alone.

In one process, on SQLite (a throw-away ``TWOSTEP_HOME``, users enrolled through the
services), each part below runs ``--count`` times in a loop, timed by the process's CPU
clock (preemption by other processes does not count), ``--repeat`` times; the median is
reported in microseconds per call:

* the ASGI apps called directly (no socket, no uvicorn): Twostep's ``GET /health`` and
  accepted ``POST /v1/validate``, and the same two on the bare probe (bench/probe.py);
* a lean route over Twostep's own service: a plain Starlette route that checks the body
  with the API's pydantic model, calls ``sign_in`` and answers the same JSON (what the
  validate route would cost without FastAPI's request handling and the middleware);
* ``SignInService.sign_in`` for an accepted code (what the validate handler calls);
* its parts: an empty read transaction and an empty write transaction through
  ``SqlStorage`` (SQLAlchemy's connection, begin and commit, the writers' lock), the same
  write transaction on the bare sqlite3 driver (BEGIN IMMEDIATE; COMMIT), the HOTP window
  (11 HMACs), and parsing the body with the API's pydantic model against ``json.loads``.

    .venv/bin/python -m bench.validate_parts            # about 30 s
    .venv/bin/python -m bench.validate_parts --only "validate, accepted" --only sign_in
    .venv/bin/python -m bench.validate_parts --only "ASGI app: POST" --profile /tmp/parts.prof
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if not __package__:  # run as ``python bench/validate_parts.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import probe, report
from bench.population import HOTP, BenchUser, Population, populate
from twostep.factors import otp
from twostep.interfaces.http.app import create_app
from twostep.interfaces.http.schemas import ValidateBody
from twostep.services.signin_request import SignInRequest

Asgi = Callable[..., Any]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=200, help="users (HOTP tokens) [200]")
    parser.add_argument("--count", type=int, default=2_000, help="calls per timing [2000]")
    parser.add_argument("--repeat", type=int, default=5, help="timings per part [5]")
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="time only the parts whose label holds TEXT (repeatable; case-insensitive)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="also run each chosen part once more under cProfile, stats to FILE.<n>",
    )
    args = parser.parse_args(argv)
    if not (1 <= args.users <= 5_000 and 10 <= args.count <= 100_000 and 1 <= args.repeat <= 20):
        parser.error("--users 1-5000, --count 10-100000, --repeat 1-20")
    return args


# A part: makes ``count`` calls and returns the CPU seconds they took (any preparation,
# such as computing codes and building requests, is done before its clock starts).
Part = Callable[[int], float]


def _cpu_us(run: Part, count: int, repeat: int) -> list[float]:
    """Microseconds of CPU per call, one figure per repeat."""
    return [run(count) / count * 1e6 for _ in range(repeat)]


def _loop(call: Callable[[], object]) -> Part:
    def run(count: int) -> float:
        started = time.process_time()
        for _ in range(count):
            call()
        return time.process_time() - started

    return run


class Codes:
    """Fresh valid codes, round robin over the users (each user's counters in order)."""

    def __init__(self, users: list[BenchUser]) -> None:
        self.users = users
        self.turn = 0

    def take(self, count: int) -> Iterator[tuple[BenchUser, str]]:
        for _ in range(count):
            user = self.users[self.turn % len(self.users)]
            self.turn += 1
            code = user.codes(user.next_counter, 1)[0]
            user.next_counter += 1
            yield user, code


def _request(path: str, key: str | None, body: bytes | None) -> tuple[dict[str, Any], bytes]:
    headers = [(b"host", b"127.0.0.1:8000")]
    if key is not None:
        headers.append((b"authorization", b"Bearer " + key.encode()))
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST" if body is not None else "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    return scope, body or b""


async def _call(app: Asgi, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(dict(scope), receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _asgi_runner(
    loop: asyncio.AbstractEventLoop,
    app: Asgi,
    path: str,
    key: str,
    codes: Codes | None,
    expect: bytes,
) -> Part:
    def run(count: int) -> float:
        if codes is None:
            requests = [_request(path, None, None)] * count
        else:
            requests = [
                _request(path, key, json.dumps({"user": u.name, "code": c}).encode())
                for u, c in codes.take(count)
            ]

        async def drive() -> None:
            for scope, body in requests:
                status, answer = await _call(app, scope, body)
                if status != 200 or expect not in answer:
                    raise RuntimeError(f"unexpected answer {status} {answer[:200]!r}")

        started = time.process_time()
        loop.run_until_complete(drive())
        return time.process_time() - started

    return run


def _signin_runner(pop: Population, codes: Codes) -> Part:
    def run(count: int) -> float:
        requests = [
            SignInRequest(user=u.name, integration_key=pop.key, code=c)
            for u, c in codes.take(count)
        ]
        started = time.process_time()
        decisions = [pop.app.signin.sign_in(request) for request in requests]
        spent = time.process_time() - started
        if any(d.result.value != "accept" for d in decisions):
            raise RuntimeError("a valid code was not accepted")
        return spent

    return run


def lean_app(pop: Population) -> Starlette:
    """``POST /v1/validate`` as a plain Starlette route over Twostep's ``sign_in``."""
    signin = pop.app.signin

    async def validate(request: Request) -> Response:
        body = ValidateBody.model_validate_json(await request.body())
        authorization = request.headers.get("authorization", "")
        key = authorization[7:] if authorization[:7].lower() == "bearer " else None
        decision = signin.sign_in(
            SignInRequest(
                user=body.user,
                integration_key=key,
                tenant=body.tenant,
                code=body.code,
                method=body.method,
                password=body.password,
                client_ip=body.client_ip,
            )
        )
        answer = {
            "result": decision.result.value,
            "reason": decision.reason.value if decision.reason else None,
            "transaction_id": decision.transaction_id,
            "methods": list(decision.methods),
            "number": decision.number,
            "prompt": decision.prompt,
            "message": decision.message,
        }
        payload = json.dumps(answer, separators=(",", ":")).encode()  # as JSONResponse does
        return Response(payload, 200, {"content-type": "application/json"})

    return Starlette(routes=[Route("/v1/validate", validate, methods=["POST"])])


def _parts(pop: Population, probe_db: Path) -> dict[str, Part]:
    storage = pop.app.storage
    seed, name = pop.users[0].seed, pop.users[0].name
    wrong = pop.users[0].wrong_code()
    body = json.dumps({"user": name, "code": "123456"}).encode()
    bare = probe.connect(probe_db)

    def read_tx() -> None:
        with storage.transaction():
            pass

    def write_tx() -> None:
        with storage.transaction(write=True):
            pass

    def bare_write_tx() -> None:
        bare.execute("BEGIN IMMEDIATE")
        bare.execute("COMMIT")

    return {
        "empty read transaction (SqlStorage)": _loop(read_tx),
        "empty write transaction (SqlStorage, with the writers' lock)": _loop(write_tx),
        "empty write transaction (sqlite3: BEGIN IMMEDIATE; COMMIT)": _loop(bare_write_tx),
        "HOTP window, 11 HMACs (factors.otp.match_counter)": _loop(
            lambda: otp.match_counter(seed, HOTP, wrong, 0, 10)
        ),
        "body through ValidateBody (pydantic, from JSON)": _loop(
            lambda: ValidateBody.model_validate_json(body)
        ),
        "body through json.loads": _loop(lambda: json.loads(body)),
    }


def _profiled(run: Part, count: int, path: str) -> None:
    """One more run of ``count`` calls under cProfile, timed by the CPU clock as the parts
    are (its figures inflate Python calls more than C: read them for where the time goes,
    not how much)."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    run(count)
    profiler.disable()
    profiler.dump_stats(path)
    print(f"          profile: {path}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    machine = report.machine()
    print(
        f"machine: {machine['cpus']} CPU(s), {machine['cpu_model']}, "
        f"Python {machine['python']}; commit {machine['commit']}",
        flush=True,
    )
    home = Path(tempfile.mkdtemp(prefix="twostep-bench-parts-"))
    loop = asyncio.new_event_loop()
    try:
        pop = populate(home, None, args.users, "service")
        probe_db = home / "probe.db"
        probe.create_database(probe_db, ((u.name, u.seed) for u in pop.users))
        probe_users = [BenchUser(u.name, u.seed) for u in pop.users]
        twostep_app = create_app(pop.app)
        bare_app = probe.create_app(probe_db, pop.key)
        accepted = b'"result":"accept"'
        health = b'"status":"ok"'
        timings: dict[str, Part] = {
            "Twostep ASGI app: GET /health": _asgi_runner(
                loop, twostep_app, "/health", pop.key, None, health
            ),
            "probe ASGI app: GET /health": _asgi_runner(
                loop, bare_app, "/health", pop.key, None, health
            ),
            "Twostep ASGI app: POST /v1/validate, accepted": _asgi_runner(
                loop, twostep_app, "/v1/validate", pop.key, Codes(pop.users), accepted
            ),
            "probe ASGI app: POST /v1/validate, accepted": _asgi_runner(
                loop, bare_app, "/v1/validate", pop.key, Codes(probe_users), accepted
            ),
            "lean Starlette route over sign_in: POST /v1/validate, accepted": _asgi_runner(
                loop, lean_app(pop), "/v1/validate", pop.key, Codes(pop.users), accepted
            ),
            "SignInService.sign_in, accepted": _signin_runner(pop, Codes(pop.users)),
            **_parts(pop, probe_db),
        }
        if args.only:
            wanted = [text.lower() for text in args.only]
            timings = {k: v for k, v in timings.items() if any(w in k.lower() for w in wanted)}
        for label, run in timings.items():
            run(min(200, args.count))  # warm-up
            figures = _cpu_us(run, args.count, args.repeat)
            spread = f"{min(figures):.1f}-{max(figures):.1f}"
            print(f"{statistics.median(figures):8.1f} us  ({spread})  {label}", flush=True)
            if args.profile:
                _profiled(run, args.count, f"{args.profile}.{list(timings).index(label)}")
        pop.close()
    finally:
        loop.close()
        shutil.rmtree(home, ignore_errors=True)
    print("CPU time per call; median of the repeats (range in brackets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
