"""Tools for race tests: requests written to several servers at the same instant, a
follower of the outbox file, and a loopback receiver that counts alert webhooks.

``at_once`` connects to every server first and only then writes every request, back to
back with no ``await`` in between, so the requests leave within microseconds of each
other: the servers work on them at the same time, which is what a race test needs (an
HTTP client library would interleave its own awaits between the sends).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_MAX_HEAD = 64 * 1024  # bytes of status line and headers an answer may have
_MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawRequest:
    """One HTTP/1.1 request, to be written as it is."""

    method: str
    target: str  # path and query, as on the request line
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, method: str, target: str, data: Any, headers: Mapping[str, str] | None = None
    ) -> RawRequest:
        body = json.dumps(data).encode()
        return cls(method, target, body, {"content-type": "application/json", **(headers or {})})

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.target} HTTP/1.1", f"host: {host}", "connection: close"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        lines.append(f"content-length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


async def at_once(
    sends: Sequence[tuple[str, RawRequest]], timeout: float = 30.0
) -> list[RawResponse]:
    """Send each request to its base URL (``http://host:port``) at the same instant and
    return the answers in the same order. Connections are opened before any byte is
    written, and each carries exactly one request."""
    streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    payloads = [request.encode(urlsplit(url).netloc) for url, request in sends]
    try:
        async with asyncio.timeout(timeout):
            for url, _request in sends:
                parts = urlsplit(url)
                assert parts.scheme == "http" and parts.hostname and parts.port, url
                streams.append(await asyncio.open_connection(parts.hostname, parts.port))
            # The barrier: from here to the last write nothing yields to the event loop.
            for payload, (_reader, writer) in zip(payloads, streams, strict=True):
                writer.write(payload)
            return list(await asyncio.gather(*(_read_response(reader) for reader, _ in streams)))
    finally:
        for _reader, writer in streams:
            writer.close()
        for _reader, writer in streams:
            with suppress(OSError):
                await writer.wait_closed()


async def send(url: str, request: RawRequest, timeout: float = 30.0) -> RawResponse:
    """One request on a connection of its own (lighter than an HTTP client library when
    a test's own CPU time competes with the servers')."""
    return (await at_once([(url, request)], timeout))[0]


async def _read_response(reader: asyncio.StreamReader) -> RawResponse:
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > _MAX_HEAD:
        raise ValueError("answer head too long")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    _version, status, *_ = status_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        if length > _MAX_BODY:
            raise ValueError("answer body too long")
        body = await reader.readexactly(length)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunks(reader)
    else:  # connection: close delimits the body
        body = await reader.read(_MAX_BODY)
    return RawResponse(int(status), headers, body)


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    body = b""
    for _ in range(10_000):  # bounded: a chunked answer here is a handful of chunks
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return body
        body += await reader.readexactly(size)
        await reader.readexactly(2)
        if len(body) > _MAX_BODY:
            break
    raise ValueError("chunked answer too long")


class OutboxTail:
    """Follows the outbox gateway's JSON-lines file (TWOSTEP_HOME/outbox.jsonl): what was
    sent, by reference (the transaction id), read incrementally rather than whole each
    time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""
        self._by_reference: dict[str, dict[str, Any]] = {}

    async def sent(self, reference: str, timeout: float = 5.0) -> dict[str, Any]:
        """The last record sent for ``reference``, waiting (bounded) for it to be written."""
        deadline = time.monotonic() + timeout
        while True:
            self._read_new()
            found = self._by_reference.get(reference)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing was sent for {reference}")
            await asyncio.sleep(0.01)

    def _read_new(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        self._offset += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for line in lines:
            if line.strip():
                record = json.loads(line)
                if record.get("reference"):
                    self._by_reference[record["reference"]] = record


class AlertInbox:
    """A loopback HTTP server that takes alert webhooks (JSON with ``transaction_id``)
    and counts them per transaction."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.alerts: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("content-length", "0")), _MAX_BODY)
                try:
                    alert = json.loads(self.rfile.read(length))
                except ValueError:
                    alert = {"unreadable": True}
                with inbox._lock:
                    inbox.alerts.append(alert)
                    inbox.counts[str(alert.get("transaction_id"))] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/alerts"

    def total(self) -> int:
        with self._lock:
            return len(self.alerts)

    def settle(self, expected: int, timeout: float = 20.0, quiet: float = 2.0) -> None:
        """Wait (bounded) for the alerts still on their way (they are posted from a
        background thread): once ``expected`` came, until none came for ``quiet`` seconds
        (time for any that should not come); before that, for three times as long."""
        deadline = time.monotonic() + timeout
        seen, changed = self.total(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            count = self.total()
            if count != seen:
                seen, changed = count, time.monotonic()
            if time.monotonic() - changed >= (quiet if count >= expected else 3 * quiet):
                return

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[AlertInbox]:
        inbox = cls()
        thread = threading.Thread(target=inbox._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield inbox
        finally:
            inbox._server.shutdown()
            inbox._server.server_close()
            thread.join(timeout=10)
