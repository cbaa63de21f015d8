"""A small upstream RADIUS server on loopback for tests of a client's ``radius`` primary:
pyrad's packet classes on a UDP socket of its own thread. It accepts the passwords it is
given, rejects the rest, or (``silent``) never answers. Bounded: it stops with the test."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pyrad import packet as pyrad_packet

from twostep.interfaces.radius.upstream import dictionary

UPSTREAM_SECRET = "upstream-secret-" + "u" * 24


@dataclass
class Upstream:
    port: int
    # The user names asked about, in order ("name (unsigned)" without a valid
    # Message-Authenticator).
    asked: list[str] = field(default_factory=list)


@contextmanager
def upstream_server(
    passwords: dict[str, str] | None = None,
    *,
    secret: str = UPSTREAM_SECRET,
    silent: bool = False,
) -> Iterator[Upstream]:
    """A server on 127.0.0.1 (a free port) answering Access-Requests for ``passwords``."""
    known = passwords or {}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    server = Upstream(sock.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            request = pyrad_packet.AuthPacket(
                packet=data, secret=secret.encode(), dict=dictionary()
            )
            user = request["User-Name"][0]
            # Twostep signs what it proxies (BlastRADIUS): an unsigned request is a failure
            # the test sees as a reject.
            signed = request.get_message_authenticator() and request.verify_message_authenticator()
            server.asked.append(user if signed else f"{user} (unsigned)")
            if silent:
                continue
            password = request.PwDecrypt(request["User-Password"][0])
            accepted = bool(signed) and user in known and known[user] == password
            reply = request.CreateReply()
            reply.code = pyrad_packet.AccessAccept if accepted else pyrad_packet.AccessReject
            sock.sendto(reply.ReplyPacket(), addr)

    thread = threading.Thread(target=serve, name="upstream-radius", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
