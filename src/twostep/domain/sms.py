"""What a text costs: its destination's country and the number of SMS segments it takes.

Carriers charge per segment. A text in the GSM 03.38 alphabet fits 160 characters in one
segment, 153 per segment once split (the rest carries the reassembly header); characters
of the extension table (``^{}\\[~]|€`` and form feed) take two. Any other character makes
the whole text UCS-2: 70 characters, 67 per segment once split (a character outside the
Basic Multilingual Plane takes two UTF-16 units)."""

from __future__ import annotations

import phonenumbers

from twostep.domain.usage import UNKNOWN_COUNTRY

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


def segments(text: str) -> int:
    """The SMS segments ``text`` takes (1 for an empty text: it is still one message)."""
    septets = 0
    for char in text:
        if char in _GSM_BASIC:
            septets += 1
        elif char in _GSM_EXTENDED:
            septets += 2
        else:
            units = len(text.encode("utf-16-le")) // 2
            return 1 if units <= 70 else -(-units // 67)
    return 1 if septets <= 160 else -(-septets // 153)


def country_of(destination: str | None) -> str:
    """The ISO 3166 alpha-2 region of an E.164 number, ``UNKNOWN_COUNTRY`` if none (an
    email address, a number of no single region such as +800)."""
    if not destination or not destination.startswith("+"):
        return UNKNOWN_COUNTRY
    try:
        number = phonenumbers.parse(destination, None)
    except phonenumbers.NumberParseException:
        return UNKNOWN_COUNTRY
    region = phonenumbers.region_code_for_number(number)
    if not region or len(region) != 2 or region == "001":
        return UNKNOWN_COUNTRY
    return str(region)
