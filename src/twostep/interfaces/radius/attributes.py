"""Attribute values of a checked Access-Request, decoded with pyrad and our dictionary."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pyrad.dictionary import Dictionary
from pyrad.packet import AuthPacket

from twostep.domain.text import has_control, printable_escape
from twostep.interfaces.radius import packet
from twostep.interfaces.radius.packet import Frame, Malformed

MAX_USER_NAME = 256


def _load_dictionary() -> Any:
    source = resources.files("twostep.interfaces.radius").joinpath("dictionary")
    with resources.as_file(source) as path:
        return Dictionary(str(path))


DICTIONARY = _load_dictionary()


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """What Twostep reads of an Access-Request."""

    user: str | None  # None: no User-Name, or one that is not printable UTF-8 text
    password: str | None  # User-Password in clear; None when absent
    state: bytes | None
    client_ip: str | None  # Calling-Station-Id when it is an address, else NAS-IP(v6)-Address
    chap: bool  # CHAP-Password present: the code cannot be recovered from it
    eap: bool  # EAP-Message present: not supported
    refused_user: str | None = None  # a User-Name refused (control characters), escaped


def _text(values: Any) -> str | None:
    if not values:
        return None
    value = values[0]
    return value if isinstance(value, str) else None


def _address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def decode(frame: Frame, secret: bytes) -> AccessRequest:
    """Decode the attributes Twostep uses; ``Malformed`` if a value cannot be."""
    try:
        pkt = AuthPacket(packet=frame.raw, dict=DICTIONARY, secret=secret)
        user = _text(pkt.get("User-Name"))
        calling = _text(pkt.get("Calling-Station-Id"))
        nas_ip = _text(pkt.get("NAS-IP-Address"))
        nas_ipv6 = _text(pkt.get("NAS-IPv6-Address"))
        hidden = frame.first(packet.USER_PASSWORD)
        password = None
        if hidden is not None:
            if not 16 <= len(hidden) <= 128 or len(hidden) % 16:
                raise Malformed(f"User-Password of {len(hidden)} octets")
            password = pkt.PwDecrypt(hidden)
    except Malformed:
        raise
    except Exception as exc:  # pyrad raises many kinds on hostile values (OSError, struct.error)
        raise Malformed(f"undecodable attribute: {type(exc).__name__}") from exc
    refused = None
    if user is not None and (len(user) > MAX_USER_NAME or has_control(user)):
        refused, user = printable_escape(user, MAX_USER_NAME), None
    return AccessRequest(
        user=user or None,
        refused_user=refused,
        password=password,
        state=frame.first(packet.STATE),
        client_ip=_address(calling) or _address(nas_ip) or _address(nas_ipv6),
        chap=frame.first(packet.CHAP_PASSWORD) is not None,
        eap=frame.first(packet.EAP_MESSAGE) is not None,
    )
