"""A real RADIUS server on loopback for tests, and the clients that talk to it: FreeRADIUS's
``radclient``/``radtest`` (as a NAS would), raw UDP packets, and pyrad."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import missing
from twostep.bootstrap import App
from twostep.interfaces.radius import packet
from twostep.interfaces.radius.server import RadiusServer

SECRET = "test-secret-" + "x" * 24  # 36 octets: no weak-secret warning


@dataclass
class Running:
    server: RadiusServer
    loop: asyncio.AbstractEventLoop
    port: int
    lost: list[bytes] = field(default_factory=list)  # replies the test chose to lose

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def reload(self) -> None:
        self.call(self.server.reload())

    def lose_next_replies(self, count: int) -> None:
        """The next ``count`` replies are dropped on the floor, as a lossy network would."""
        send = self.server._send
        budget = [count]

        def lossy(reply: bytes, addr: Any) -> None:
            if budget[0] > 0:
                budget[0] -= 1
                self.lost.append(reply)
                return
            send(reply, addr)

        self.server._send = lossy  # type: ignore[method-assign]


@contextmanager
def running(app: App, host: str = "127.0.0.1") -> Iterator[Running]:
    """The server on a free port, its event loop in a thread of its own."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="radius-test", daemon=True)
    thread.start()
    server = RadiusServer(app, host, 0)
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=30)
        yield Running(server, loop, server.address[1])
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def require(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        missing(f"{program} (Debian package freeradius-utils)")
    assert found is not None
    return found


@dataclass
class Answer:
    code: str | None  # "Access-Accept", "Access-Reject", "Access-Challenge"; None: no reply
    attributes: dict[str, list[str]]
    output: str
    returncode: int


def _parse(output: str, returncode: int) -> Answer:
    code = None
    attributes: dict[str, list[str]] = {}
    in_reply = False
    for line in output.splitlines():
        if line.startswith("Received "):
            code = line.split()[1]
            in_reply = True
        elif line.startswith("Sent "):
            in_reply = False
        elif in_reply and " = " in line:
            name, _, value = line.strip().partition(" = ")
            attributes.setdefault(name, []).append(value.strip('"'))
    return Answer(code, attributes, output, returncode)


def radclient(
    port: int,
    attributes: str,
    *,
    secret: str = SECRET,
    command: str = "auth",
    retries: int = 1,
    timeout: float = 1.0,
    server: str = "127.0.0.1",
) -> Answer:
    """Send one request with radclient (``attributes`` in its syntax: ``Name = value, ...``)."""
    program = require("radclient")
    result = subprocess.run(
        [
            program,
            "-x",
            "-r",
            str(retries),
            "-t",
            str(timeout),
            f"{server}:{port}",
            command,
            secret,
        ],
        input=attributes + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return _parse(result.stdout + result.stderr, result.returncode)


def radtest(port: int, user: str, password: str, *, secret: str = SECRET) -> Answer:
    program = require("radtest")
    require("radclient")
    result = subprocess.run(
        [program, "-x", user, password, f"127.0.0.1:{port}", "0", secret],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PATH": os.environ.get("PATH", "/usr/bin")},
    )
    return _parse(result.stdout + result.stderr, result.returncode)


def access_request(
    user: str,
    password: str | None,
    *,
    secret: str = SECRET,
    ident: int | None = None,
    authenticator: bytes | None = None,
    message_authenticator: bool = True,
    extra: Sequence[tuple[int, bytes]] = (),
) -> bytes:
    """An Access-Request built by hand (with the server's own codec for the hiding)."""
    ident = secrets.randbelow(256) if ident is None else ident
    authenticator = authenticator or secrets.token_bytes(16)
    key = secret.encode()
    attributes: list[tuple[int, bytes]] = [(packet.USER_NAME, user.encode())]
    if password is not None:
        hidden = packet.hide_password(password.encode(), authenticator, key)
        attributes.append((packet.USER_PASSWORD, hidden))
    attributes += extra
    if message_authenticator:
        return packet.sign_request(ident, authenticator, attributes, key)
    body = b"".join(packet.attribute(k, v) for k, v in attributes)
    head = bytes((packet.ACCESS_REQUEST, ident)) + (20 + len(body)).to_bytes(2, "big")
    return head + authenticator + body


def exchange(
    port: int, data: bytes, *, timeout: float = 1.0, host: str = "127.0.0.1"
) -> bytes | None:
    """Send one datagram and wait for one answer (None: none came)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(data, (host, port))
        try:
            return sock.recv(4096)
        except TimeoutError:
            return None


def pyrad_client(port: int, timeout: float = 30) -> Any:
    """pyrad's own client for a server port (the caller closes it: ``_CloseSocket``)."""
    from pyrad.client import Client
    from pyrad.dictionary import Dictionary

    dictionary = Path(packet.__file__).with_name("dictionary")
    client = Client(
        server="127.0.0.1",
        authport=port,
        secret=SECRET.encode(),
        dict=Dictionary(str(dictionary)),
        enforce_ma=True,
    )
    client.timeout = timeout
    client.retries = 1
    return client


def ask(client: Any, user: str, password: str, state: bytes | None = None) -> Any:
    """One Access-Request with Message-Authenticator, as a NAS sends it; the reply."""
    request = client.CreateAuthPacket(code=1, User_Name=user)
    request["User-Password"] = request.PwCrypt(password)
    if state is not None:
        request["State"] = state
    request.add_message_authenticator()
    return client.SendPacket(request)
