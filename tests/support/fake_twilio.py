"""A recording HTTP server on loopback, and just enough of Twilio's REST API to answer in it.

The server stands for an SMS API or for Twilio: it records every request and answers
with ``Recorder.answer``. :func:`twilio_api` is that answer for Twilio: it checks the
Basic auth of :data:`SID` and :data:`TOKEN` and creates messages and calls the way
Twilio's ``2010-04-01`` API does, so Twilio's own Python library can talk to it.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


Answer = tuple[int, dict[str, Any] | str]


@dataclass
class Recorder:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    answer: Callable[[Recorded], Answer] = lambda _: (200, {"ok": True})
    delay: float = 0.0  # seconds before answering, to provoke client timeouts
    release: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        recorder = self.server.recorder
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = Recorded(
            self.command,
            parts.path,
            dict(parse_qsl(parts.query, keep_blank_values=True)),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        recorder.requests.append(request)
        if recorder.delay:
            recorder.release.wait(recorder.delay)  # the teardown cuts the wait short
        status, payload = recorder.answer(request)
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        return None  # keep the test output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.recorder = recorder

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that timed out and hung up is expected in these tests


@contextmanager
def serving(recorder: Recorder | None = None) -> Iterator[Recorder]:
    """Run a recording server on 127.0.0.1 (a free port) until the block ends."""
    rec = recorder if recorder is not None else Recorder()
    server = _Server(rec)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield rec
    finally:
        rec.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- Twilio's REST API ----------------------------------------------------------------

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "auth-token-0123456789"
ACCOUNT = f"/2010-04-01/Accounts/{SID}"
INVALID_TO = "+15005550001"  # Twilio's magic "invalid number" test number
MESSAGE_SID = "SM" + "a" * 32
CALL_SID = "CA" + "b" * 32


def basic_auth(sid: str = SID, token: str = TOKEN) -> str:
    """The Authorization header Twilio's library sends."""
    return "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()


def twilio_api(request: Recorded) -> Answer:
    """Just enough of Twilio's REST API: Basic auth, Messages.json, Calls.json, errors."""
    if request.headers.get("authorization") != basic_auth():
        return 401, twilio_error(20003, "Authenticate", 401)
    form = request.form()
    if form.get("To") == INVALID_TO:
        message = f"The 'To' number {INVALID_TO} is not a valid phone number."
        return 400, twilio_error(21211, message, 400)
    common = {"account_sid": SID, "api_version": "2010-04-01", "status": "queued", "to": form["To"]}
    if (request.method, request.path) == ("POST", f"{ACCOUNT}/Messages.json"):
        return 201, common | {
            "sid": MESSAGE_SID,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            "direction": "outbound-api",
            "num_segments": "1",
            "date_created": "Thu, 01 Jan 2026 00:00:00 +0000",
            "uri": f"{ACCOUNT}/Messages/{MESSAGE_SID}.json",
        }
    if (request.method, request.path) == ("POST", f"{ACCOUNT}/Calls.json"):
        return 201, common | {
            "sid": CALL_SID,
            "from": form["From"],
            "direction": "outbound-api",
            "uri": f"{ACCOUNT}/Calls/{CALL_SID}.json",
        }
    return 404, twilio_error(20404, "The requested resource was not found", 404)


def twilio_error(code: int, message: str, status: int) -> dict[str, Any]:
    """An error body as Twilio's API writes it."""
    more = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more, "status": status}
