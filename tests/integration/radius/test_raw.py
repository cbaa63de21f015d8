"""Raw datagrams: duplicates answered byte for byte, pyrad's client, and a bounded fuzz."""

from __future__ import annotations

import random
import secrets
import socket
import struct
from pathlib import Path

from pyrad.client import Client
from pyrad.dictionary import Dictionary
from pyrad.packet import AccessAccept, AccessReject

from tests.support import builders
from tests.support.radius import SECRET, Running, access_request, exchange
from twostep.bootstrap import App
from twostep.interfaces.radius import packet
from twostep.services.admin import OPERATOR

DICTIONARY = Path(packet.__file__).with_name("dictionary")


def test_a_duplicate_gets_the_same_reply_byte_for_byte(
    app: App, radius: Running, alice: builders.Enrolled
) -> None:
    data = access_request("alice", alice.totp(app.deps.clock.now()), ident=7)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(data, ("127.0.0.1", radius.port))
        first = sock.recv(4096)
        sock.sendto(data, ("127.0.0.1", radius.port))
        second = sock.recv(4096)
    assert first == second
    assert first[0] == packet.ACCESS_ACCEPT
    assert len(app.audit.query(OPERATOR, "default", user="alice")) == 1
    # The same ID and authenticator from another source port is another request.
    assert exchange(radius.port, data)[0] == packet.ACCESS_REJECT  # type: ignore[index]


def test_the_reply_is_signed_with_message_authenticator_first(
    app: App, radius: Running, alice: builders.Enrolled
) -> None:
    authenticator = secrets.token_bytes(16)
    data = access_request("alice", "000000", authenticator=authenticator)
    reply = exchange(radius.port, data)
    assert reply is not None
    assert packet.response_valid(reply, authenticator, SECRET.encode())
    frame = packet.parse(reply)
    assert frame.attributes[0][0] == packet.MESSAGE_AUTHENTICATOR
    # The reply's Message-Authenticator is computed with the Request Authenticator.
    as_signed = reply[:4] + authenticator + reply[20:]
    assert packet.message_authenticator_valid(packet.parse(as_signed), SECRET.encode())


def test_pyrad_client(app: App, radius: Running, alice: builders.Enrolled) -> None:
    client = Client(
        server="127.0.0.1",
        authport=radius.port,
        secret=SECRET.encode(),
        dict=Dictionary(str(DICTIONARY)),
        enforce_ma=True,
    )
    client.timeout = 2
    client.retries = 1
    try:
        _pyrad_exchanges(client, alice.totp(app.deps.clock.now()))
    finally:
        client._CloseSocket()


def _pyrad_exchanges(client: Client, code: str) -> None:
    request = client.CreateAuthPacket(code=1, User_Name="alice")
    request["User-Password"] = request.PwCrypt(code)
    request["NAS-IP-Address"] = "192.0.2.1"
    request.add_message_authenticator()
    reply = client.SendPacket(request)  # verifies the reply, Message-Authenticator included
    assert reply.code == AccessAccept
    again = client.CreateAuthPacket(code=1, User_Name="alice")
    again["User-Password"] = again.PwCrypt("999999")
    again.add_message_authenticator()
    reply = client.SendPacket(again)
    assert reply.code == AccessReject
    assert reply["Reply-Message"] == ["Invalid verification code"]


def _mutations(rng: random.Random, good: bytes) -> bytes:
    data = bytearray(good)
    choice = rng.randrange(8)
    if choice == 0:  # random bytes
        return rng.randbytes(rng.randrange(0, 200))
    if choice == 1:  # truncated
        return bytes(data[: rng.randrange(len(data))])
    if choice == 2:  # flipped bits
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    if choice == 3:  # a wrong Length field
        struct.pack_into("!H", data, 2, rng.choice([0, 19, 20, len(data) + 1, 4097, 65535]))
        return bytes(data)
    if choice == 4:  # a bad attribute length
        data[20 + 1] = rng.choice([0, 1, 255])
        return bytes(data)
    if choice == 5:  # another code
        data[0] = rng.choice([0, 2, 3, 4, 5, 11, 13, 40, 255])
        return bytes(data)
    if choice == 6:  # garbage attributes, correctly signed (the decoder's turn)
        extra = [(rng.randrange(256), rng.randbytes(rng.randrange(0, 40))) for _ in range(5)]
        extra = [(k, v) for k, v in extra if k not in (packet.MESSAGE_AUTHENTICATOR,)]
        name = rng.randbytes(rng.randrange(0, 30)).decode("latin-1")
        return access_request(name, rng.randbytes(8).hex(), extra=extra)
    return bytes(data) + rng.randbytes(rng.randrange(1, 50))  # trailing bytes


def test_fuzz_never_crashes_nor_accepts(
    app: App, radius: Running, alice: builders.Enrolled
) -> None:
    rng = random.Random(6)
    good = access_request("alice", "000000")
    accepts = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for i in range(2_000):
            sock.sendto(_mutations(rng, good), ("127.0.0.1", radius.port))
            if i % 50 == 49:  # pace, and count what came back so far
                accepts += _drain(sock, wait=0.05)
        accepts += _drain(sock, wait=0.5)
    assert accepts == 0
    assert radius.server.errors == 0
    code = alice.totp(app.deps.clock.now())
    reply = exchange(radius.port, access_request("alice", code), timeout=5)
    assert reply is not None and reply[0] == packet.ACCESS_ACCEPT


def _drain(sock: socket.socket, wait: float) -> int:
    sock.settimeout(wait)
    accepts = 0
    try:
        while True:
            reply = sock.recv(4096)
            accepts += reply[:1] == bytes((packet.ACCESS_ACCEPT,))
    except (TimeoutError, BlockingIOError):
        pass
    sock.setblocking(False)
    return accepts
