"""Framing, the Message-Authenticator and reply signing, against RFC 2865's own figures
and pyrad as an independent implementation."""

from __future__ import annotations

import hashlib
import secrets
import struct
from pathlib import Path

import pytest
from pyrad.dictionary import Dictionary
from pyrad.packet import AccessAccept, AuthPacket

from twostep.interfaces.radius import packet
from twostep.interfaces.radius.attributes import decode
from twostep.interfaces.radius.packet import Malformed

DICTIONARY = Dictionary(str(Path(packet.__file__).with_name("dictionary")))

# RFC 2865 section 7.1: nemo, password "arctangent", shared secret "xyzzy5461".
RFC_SECRET = b"xyzzy5461"
RFC_REQUEST = bytes.fromhex(
    "01000038 0f403f9473978057bd83d5cb98f4227a 01066e656d6f"
    "02120dbe708d93d413ce3196e43f782a0aee 0406c0a80110 050600000003".replace(" ", "")
)
RFC_ACCEPT = bytes.fromhex(
    "02000026 86fe220e7624ba2a1005f6bf9b55e0b2 060600000001 0f0600000000 0e06c0a80103".replace(
        " ", ""
    )
)


def test_rfc2865_access_request_figure() -> None:
    frame = packet.parse(RFC_REQUEST)
    assert (frame.code, frame.id, len(frame.attributes)) == (1, 0, 4)
    assert frame.ma_offset is None
    hidden = frame.first(packet.USER_PASSWORD)
    assert hidden == packet.hide_password(b"arctangent", frame.authenticator, RFC_SECRET)
    request = decode(frame, RFC_SECRET)
    assert (request.user, request.password, request.client_ip) == (
        "nemo",
        "arctangent",
        "192.168.1.16",
    )


def test_rfc2865_access_accept_figure() -> None:
    authenticator = packet.parse(RFC_REQUEST).authenticator
    assert packet.response_valid(RFC_ACCEPT, authenticator, RFC_SECRET)
    assert not packet.response_valid(RFC_ACCEPT, authenticator, b"another")


def _pyrad_request(secret: bytes, **attributes: object) -> bytes:
    request = AuthPacket(dict=DICTIONARY, secret=secret, id=42, User_Name="alice")
    request["User-Password"] = request.PwCrypt("123456")
    for name, value in attributes.items():
        request[name.replace("_", "-")] = value
    request.add_message_authenticator()
    return bytes(request.RequestPacket())


def test_message_authenticator_of_a_pyrad_request() -> None:
    secret = secrets.token_bytes(32)
    frame = packet.parse(_pyrad_request(secret, NAS_IP_Address="192.0.2.1"))
    assert frame.ma_offset is not None
    assert packet.message_authenticator_valid(frame, secret)
    assert not packet.message_authenticator_valid(frame, secret + b"x")
    tampered = bytearray(frame.raw)
    tampered[-1] ^= 1  # the last octet of NAS-IP-Address
    assert not packet.message_authenticator_valid(packet.parse(bytes(tampered)), secret)
    assert decode(frame, secret).password == "123456"


def test_our_request_verifies_with_pyrad() -> None:
    secret = b"s" * 32
    authenticator = secrets.token_bytes(16)
    hidden = packet.hide_password(b"654321", authenticator, secret)
    raw = packet.sign_request(9, authenticator, [(1, b"bob"), (2, hidden)], secret)
    parsed = AuthPacket(packet=raw, dict=DICTIONARY, secret=secret)
    assert parsed.verify_message_authenticator()
    assert parsed.PwDecrypt(parsed[2][0]) == "654321"
    assert packet.parse(raw).attributes[0][0] == packet.MESSAGE_AUTHENTICATOR


def test_signed_reply_verifies_with_pyrad_and_has_the_authenticator_first() -> None:
    secret = secrets.token_bytes(20)
    request = AuthPacket(
        packet=_pyrad_request(secret, Proxy_State=b"p1"), dict=DICTIONARY, secret=secret
    )
    reply_bytes = packet.sign_reply(
        packet.ACCESS_ACCEPT,
        request.id,
        request.authenticator,
        [*packet.text_attributes(packet.REPLY_MESSAGE, "Welcome"), (packet.PROXY_STATE, b"p1")],
        secret,
    )
    reply = request.CreateReply(packet=reply_bytes)
    assert reply.code == AccessAccept
    assert request.VerifyReply(reply, reply_bytes, enforce_ma=True)
    assert packet.parse(reply_bytes).attributes[0][0] == packet.MESSAGE_AUTHENTICATOR
    # the Response Authenticator is over the reply as sent, Message-Authenticator included
    head, body = reply_bytes[:4], reply_bytes[20:]
    expected = hashlib.md5(head + request.authenticator + body + secret).digest()  # noqa: S324
    assert reply_bytes[4:20] == expected


def test_long_reply_messages_are_split() -> None:
    parts = packet.text_attributes(packet.REPLY_MESSAGE, "x" * 600)
    assert [len(v) for _k, v in parts] == [253, 253, 94]


GOOD = packet.sign_request(1, bytes(16), [(1, b"alice"), (2, bytes(16))], b"secret")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "shorter than a RADIUS header"),
        (GOOD[:19], "shorter than a RADIUS header"),
        (GOOD[:2] + struct.pack("!H", 19) + GOOD[4:], "outside 20-4096"),
        (GOOD[:2] + struct.pack("!H", 5000) + GOOD[4:], "outside 20-4096"),
        (GOOD[:2] + struct.pack("!H", len(GOOD) + 1) + GOOD[4:], "beyond"),
        (GOOD[:21] + b"\x01" + GOOD[22:], "bad length"),
        (GOOD[:21] + b"\xff" + GOOD[22:], "bad length"),
        (GOOD[:2] + struct.pack("!H", len(GOOD) + 1) + GOOD[4:] + b"\x05", "truncated attribute"),
        (GOOD[:2] + struct.pack("!H", len(GOOD) + 3) + GOOD[4:] + b"\x50\x03\x00", "not 18"),
        (
            GOOD[:2] + struct.pack("!H", len(GOOD) + 18) + GOOD[4:] + GOOD[20:38],
            "more than one Message-Authenticator",
        ),
    ],
)
def test_malformed_packets_are_refused(data: bytes, problem: str) -> None:
    with pytest.raises(Malformed, match=problem):
        packet.parse(data)


def test_padding_after_length_is_ignored() -> None:
    frame = packet.parse(GOOD + b"\x00" * 7)
    assert frame.raw == GOOD
    assert packet.message_authenticator_valid(frame, b"secret")


@pytest.mark.parametrize("length", [0, 15, 17, 144])
def test_a_bad_user_password_length_is_malformed(length: int) -> None:
    raw = packet.sign_request(1, bytes(16), [(1, b"alice"), (2, bytes(length))], b"k")
    with pytest.raises(Malformed):
        decode(packet.parse(raw), b"k")


def test_garbage_values_decode_or_are_malformed_never_anything_else() -> None:
    raw = packet.sign_request(1, bytes(16), [(4, b"\x01\x02\x03"), (95, b"\x00")], b"k")
    with pytest.raises(Malformed):
        decode(packet.parse(raw), b"k")
    odd = packet.sign_request(1, bytes(16), [(1, b"\xff\xfe"), (31, b"not an ip")], b"k")
    request = decode(packet.parse(odd), b"k")
    assert (request.user, request.client_ip, request.password) == (None, None, None)
