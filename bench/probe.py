"""The probe: a bare Starlette app doing the minimum a HOTP validation must do.

``POST /v1/validate`` with ``{"user": ..., "code": ...}`` and a bearer key:

1. compare the bearer key (constant time, against the one key the probe was given);
2. parse the JSON body (``json.loads``, two fields checked by hand);
3. read the user's seed and counter (one indexed SELECT, outside the write transaction);
4. HMAC the whole HOTP window (``cryptography``'s HOTP, counter .. counter + look-ahead,
   every candidate compared in constant time and none skipped, as Twostep does);
5. in one SQLite transaction (``BEGIN IMMEDIATE``, WAL): one conditional UPDATE that spends
   the code (``counter <= matched``, and not locked, in the same statement) or counts the
   failure, and one audit INSERT; COMMIT.

It keeps Twostep's guarantees on the accept path (one-time use decided by the database,
the lock checked in the claim, the audit row in the same transaction) and nothing else:
no tenant, policy, method kinds, sealed seeds, validation models or error mapper. It is
served the way ``twostep serve`` serves (a pre-fork supervisor, one ``SO_REUSEPORT``
socket per worker, the same uvicorn settings, the same SQLite pragmas, the database
called on the event loop), so ``bench/validate.py`` can report Twostep's rate as a
fraction of it. ``GET /health`` answers ``{"status":"ok"}`` like Twostep's.

    python -m bench.probe --database FILE --port PORT --workers 2   # key in PROBE_KEY
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType

import uvicorn
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.hotp import HOTP
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

LOOKAHEAD = 10  # Twostep's default hotp_lookahead
MAX_FAILURES = 100  # the bench tenant's max_failures
LOCK_SECONDS = 300.0
BUSY_TIMEOUT_MS = 15_000  # Twostep's SQLITE_BUSY_TIMEOUT_MS

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS tokens ("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, seed BLOB NOT NULL,"
    " counter INTEGER NOT NULL DEFAULT 0, failed_count INTEGER NOT NULL DEFAULT 0,"
    " locked_until REAL)",
    "CREATE TABLE IF NOT EXISTS audit ("
    " seq INTEGER PRIMARY KEY, at REAL NOT NULL, user_name TEXT NOT NULL,"
    " result TEXT NOT NULL, reason TEXT, interface TEXT NOT NULL, client_ip TEXT)",
)

_READ = "SELECT id, seed, counter FROM tokens WHERE name = ?"
_CLAIM = (
    "UPDATE tokens SET counter = ?, failed_count = 0 WHERE id = ? AND counter <= ?"
    " AND (locked_until IS NULL OR locked_until <= ?)"
)
_FAIL = (
    "UPDATE tokens SET failed_count = failed_count + 1,"
    " locked_until = CASE WHEN failed_count + 1 >= ? THEN ? ELSE locked_until END"
    " WHERE id = ?"
)
_AUDIT = (
    "INSERT INTO audit (at, user_name, result, reason, interface, client_ip)"
    " VALUES (?, ?, ?, ?, 'http', ?)"
)

_JSON = {"content-type": "application/json"}
_ACCEPT = b'{"result":"accept"}'
_REJECT = b'{"result":"reject","reason":"%s"}'


def connect(path: Path) -> sqlite3.Connection:
    """A connection with Twostep's pragmas (adapters/storage/engine.py), in autocommit:
    the transaction is begun explicitly, as Twostep's engine does."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def create_database(path: Path, users: Iterable[tuple[str, bytes]]) -> None:
    conn = connect(path)
    try:
        for statement in SCHEMA:
            conn.execute(statement)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO tokens (name, seed) VALUES (?, ?)", users)
        conn.execute("COMMIT")
    finally:
        conn.close()


def create_app(database: Path, key: str) -> Starlette:
    conn = connect(database)
    expected = f"Bearer {key}".encode()

    def reject(reason: str, status: int = 200) -> Response:
        return Response(_REJECT % reason.encode(), status, _JSON)

    async def validate(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return reject("unauthenticated", 401)
        try:
            body = json.loads(await request.body())
            user, code = body["user"], body["code"]
        except (ValueError, TypeError, KeyError):
            return reject("malformed", 400)
        if not (isinstance(user, str) and isinstance(code, str) and len(code) == 6):
            return reject("malformed", 400)
        row = conn.execute(_READ, (user,)).fetchone()
        if row is None:
            return reject("unknown_user", 404)
        token_id, seed, counter = row
        generator = HOTP(seed, 6, SHA1(), enforce_key_length=False)  # noqa: S303 (RFC 4226)
        wanted = code.encode()
        matched = None
        for candidate in range(counter, counter + LOOKAHEAD + 1):  # the whole window, as
            if hmac.compare_digest(generator.generate(candidate), wanted) and matched is None:
                matched = candidate  # Twostep does: the time does not tell how close a guess came
        now = time.time()
        client_ip = request.client.host if request.client else None
        conn.execute("BEGIN IMMEDIATE")
        try:
            claimed = matched is not None and (
                conn.execute(_CLAIM, (matched + 1, token_id, matched, now)).rowcount == 1
            )
            if claimed:
                conn.execute(_AUDIT, (now, user, "accept", None, client_ip))
            else:
                reason = "invalid_code" if matched is None else "code_replayed"
                conn.execute(_FAIL, (MAX_FAILURES, now + LOCK_SECONDS, token_id))
                conn.execute(_AUDIT, (now, user, "reject", reason, client_ip))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return Response(_ACCEPT, 200, _JSON) if claimed else reject(reason)

    async def health(_request: Request) -> Response:
        return Response(b'{"status":"ok"}', 200, _JSON)

    return Starlette(
        routes=[
            Route("/v1/validate", validate, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


# -- served like ``twostep serve`` (src/twostep/interfaces/http/prefork.py) ------------


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _worker(database: Path, key: str, host: str, port: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    sock = _bind(host, port)
    settings = uvicorn.Config(
        lambda: create_app(database, key),  # after the fork: one connection per worker
        factory=True,
        log_level="info",  # Twostep's default log level
        access_log=False,  # ``twostep serve``'s default
        server_header=False,
        timeout_keep_alive=75,
    )
    uvicorn.Server(settings).run(sockets=[sock])


def serve(database: Path, key: str, host: str, port: int, workers: int) -> None:
    children: set[int] = set()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                children.discard(pid)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _worker(database, key, host, port)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children.add(pid)
    while children:  # bounded: every worker exits on SIGTERM (the bench's Server.stop)
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    if not args.host.startswith("127."):
        parser.error("--host: loopback only")
    key = os.environ.get("PROBE_KEY", "")
    if not key:
        parser.error("PROBE_KEY is not set")
    serve(args.database, key, args.host, args.port, max(1, min(args.workers, 64)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
