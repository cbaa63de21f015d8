"""RADIUS framing and integrity (RFC 2865, RFC 2869 section 5.14, RFC 3579 section 3.2).

Every received datagram is walked here before anything else reads it: the header, the
Length field and every attribute's length are checked, so a malformed packet is refused
with one ``Malformed`` error and never reaches a decoder. The Message-Authenticator is
verified here too (HMAC-MD5 over the packet with its value zeroed, compared in constant
time), and every reply is signed here: Message-Authenticator first, computed over the
reply with the Request Authenticator, then the Response Authenticator over the result.

Attribute values are decoded with pyrad and the dictionary shipped beside this module
(see ``attributes.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ACCESS_REQUEST = 1
ACCESS_ACCEPT = 2
ACCESS_REJECT = 3
ACCESS_CHALLENGE = 11
STATUS_SERVER = 12

USER_NAME = 1
USER_PASSWORD = 2
CHAP_PASSWORD = 3
NAS_IP_ADDRESS = 4
REPLY_MESSAGE = 18
STATE = 24
SESSION_TIMEOUT = 27
CALLING_STATION_ID = 31
PROXY_STATE = 33
EAP_MESSAGE = 79
MESSAGE_AUTHENTICATOR = 80
NAS_IPV6_ADDRESS = 95

HEADER = 20
MAX_PACKET = 4096  # RFC 2865 section 3
MAX_VALUE = 253
_ZERO16 = bytes(16)
_HEADER = struct.Struct("!BBH16s")


class Malformed(ValueError):
    """The datagram is not a well-formed RADIUS packet."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A checked packet: the header fields and the attributes in wire order."""

    code: int
    id: int
    authenticator: bytes
    raw: bytes  # exactly Length octets (padding after Length dropped, RFC 2865 section 3)
    attributes: tuple[tuple[int, bytes], ...]
    ma_offset: int | None  # where the Message-Authenticator's value starts, if present

    def values(self, kind: int) -> list[bytes]:
        return [value for code, value in self.attributes if code == kind]

    def first(self, kind: int) -> bytes | None:
        for code, value in self.attributes:
            if code == kind:
                return value
        return None


def parse(data: bytes) -> Frame:
    """Check the framing of ``data``; raise ``Malformed`` with the reason if it is wrong."""
    if len(data) < HEADER:
        raise Malformed(f"{len(data)} octets: shorter than a RADIUS header")
    code, ident, length, authenticator = _HEADER.unpack_from(data)
    if length < HEADER or length > MAX_PACKET:
        raise Malformed(f"Length field {length} outside 20-4096")
    if length > len(data):
        raise Malformed(f"Length field {length} beyond the {len(data)} octets received")
    raw = bytes(data[:length])
    attributes: list[tuple[int, bytes]] = []
    ma_offset = None
    at = HEADER
    while at < length:
        if length - at < 2:
            raise Malformed(f"truncated attribute header at octet {at}")
        kind, size = raw[at], raw[at + 1]
        if size < 2 or at + size > length:
            raise Malformed(f"attribute {kind} at octet {at} has a bad length {size}")
        if kind == MESSAGE_AUTHENTICATOR:
            if size != 18:
                raise Malformed(f"Message-Authenticator of length {size}, not 18")
            if ma_offset is not None:
                raise Malformed("more than one Message-Authenticator")
            ma_offset = at + 2
        attributes.append((kind, raw[at + 2 : at + size]))
        at += size
    return Frame(code, ident, authenticator, raw, tuple(attributes), ma_offset)


def message_authenticator_valid(frame: Frame, secret: bytes) -> bool:
    """HMAC-MD5 (key: the secret) over the request with the attribute's value zeroed,
    compared in constant time. False when the packet has none."""
    if frame.ma_offset is None:
        return False
    at = frame.ma_offset
    zeroed = frame.raw[:at] + _ZERO16 + frame.raw[at + 16 :]
    expected = hmac.new(secret, zeroed, hashlib.md5).digest()
    return hmac.compare_digest(expected, frame.raw[at : at + 16])


def attribute(kind: int, value: bytes) -> bytes:
    if len(value) > MAX_VALUE:
        raise ValueError(f"attribute {kind}: {len(value)} octets, at most {MAX_VALUE} fit")
    return bytes((kind, len(value) + 2)) + value


def text_attributes(kind: int, text: str) -> list[tuple[int, bytes]]:
    """A text split into as many attributes as it needs (Reply-Message may repeat)."""
    data = text.encode("utf-8")
    chunks = [data[i : i + MAX_VALUE] for i in range(0, len(data), MAX_VALUE)] or [b""]
    return [(kind, chunk) for chunk in chunks]


def sign_reply(
    code: int,
    ident: int,
    request_authenticator: bytes,
    attributes: Iterable[tuple[int, bytes]],
    secret: bytes,
) -> bytes:
    """The reply as sent: Message-Authenticator first (HMAC-MD5 over the reply whose
    Authenticator field holds the Request Authenticator, RFC 2869 section 5.14), then the
    Response Authenticator, MD5(Code+ID+Length+RequestAuth+Attributes+Secret), over it."""
    body = b"".join(attribute(kind, value) for kind, value in attributes)
    length = HEADER + 18 + len(body)
    if length > MAX_PACKET:
        raise ValueError(f"reply of {length} octets exceeds {MAX_PACKET}")
    head = struct.pack("!BBH", code, ident, length)
    unsigned = head + request_authenticator + attribute(MESSAGE_AUTHENTICATOR, _ZERO16) + body
    mac = hmac.new(secret, unsigned, hashlib.md5).digest()
    attrs = attribute(MESSAGE_AUTHENTICATOR, mac) + body
    response = hashlib.md5(head + request_authenticator + attrs + secret).digest()  # noqa: S324 - RFC 2865
    return head + response + attrs


def sign_request(
    ident: int,
    authenticator: bytes,
    attributes: Sequence[tuple[int, bytes]],
    secret: bytes,
    code: int = ACCESS_REQUEST,
) -> bytes:
    """An Access-Request (or Status-Server) with Message-Authenticator first (for tests
    and the benchmark)."""
    body = b"".join(attribute(kind, value) for kind, value in attributes)
    head = struct.pack("!BBH", code, ident, HEADER + 18 + len(body))
    unsigned = head + authenticator + attribute(MESSAGE_AUTHENTICATOR, _ZERO16) + body
    mac = hmac.new(secret, unsigned, hashlib.md5).digest()
    return head + authenticator + attribute(MESSAGE_AUTHENTICATOR, mac) + body


def hide_password(password: bytes, authenticator: bytes, secret: bytes) -> bytes:
    """User-Password hiding (RFC 2865 section 5.2), for clients: tests and the benchmark."""
    padded = password + bytes(-len(password) % 16 or (16 if not password else 0))
    out = b""
    last = authenticator
    for i in range(0, len(padded), 16):
        digest = hashlib.md5(secret + last).digest()  # noqa: S324 - RFC 2865
        block = bytes(a ^ b for a, b in zip(padded[i : i + 16], digest, strict=True))
        out += block
        last = block
    return out


def response_valid(reply: bytes, request_authenticator: bytes, secret: bytes) -> bool:
    """Whether ``reply`` carries a correct Response Authenticator (for clients)."""
    if len(reply) < HEADER:
        return False
    expected = hashlib.md5(  # noqa: S324 - RFC 2865
        reply[:4] + request_authenticator + reply[HEADER:] + secret
    ).digest()
    return hmac.compare_digest(expected, reply[4:HEADER])
