"""The checks both importers apply to a token, so a CSV and a PSKC file agree on what is valid.

Each check raises ValueError with a reason fit to show an admin: it never quotes a secret.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TypeVar

from twostep.domain.entities import OtpAlgorithm, OtpType

T = TypeVar("T")

SUPPORTED_DIGITS = (6, 8)
SUPPORTED_PERIODS = (30, 60)
MIN_SEED_BYTES = 10  # 80 bits: the shortest seed hardware vendors still ship
MAX_SEED_BYTES = 128
MAX_SERIAL_LENGTH = 64
MAX_TEXT_LENGTH = 255  # manufacturer, model, upn
MAX_COUNTER = 2**63 - 1


def _printable(text: str) -> bool:
    return not any(unicodedata.category(ch).startswith("C") for ch in text)


def check_serial(text: str | None) -> str:
    serial = (text or "").strip()
    if not serial:
        raise ValueError("the serial number is missing")
    if len(serial) > MAX_SERIAL_LENGTH:
        raise ValueError(f"the serial number is longer than {MAX_SERIAL_LENGTH} characters")
    if not _printable(serial):
        raise ValueError("the serial number contains control characters")
    return serial


def check_text(name: str, text: str | None) -> str | None:
    """An optional free-text field (manufacturer, model, upn): None when empty."""
    value = (text or "").strip()
    if not value:
        return None
    if len(value) > MAX_TEXT_LENGTH:
        raise ValueError(f"the {name} is longer than {MAX_TEXT_LENGTH} characters")
    if not _printable(value):
        raise ValueError(f"the {name} contains control characters")
    return value


def check_seed(seed: bytes) -> bytes:
    if not MIN_SEED_BYTES <= len(seed) <= MAX_SEED_BYTES:
        raise ValueError(f"the secret must be {MIN_SEED_BYTES} to {MAX_SEED_BYTES} bytes long")
    return seed


def check_digits(digits: int) -> int:
    if digits not in SUPPORTED_DIGITS:
        raise ValueError("the number of digits must be 6 or 8")
    return digits


def check_period(period: int) -> int:
    if period not in SUPPORTED_PERIODS:
        raise ValueError("the time interval must be 30 or 60 seconds")
    return period


def check_counter(counter: int) -> int:
    if not 0 <= counter <= MAX_COUNTER:
        raise ValueError("the counter must be a whole number from 0 to 2^63-1")
    return counter


MAX_DRIFT = 1_000_000  # time steps: a year of 30 s steps, past any clock a token keeps


def check_drift(drift: int) -> int:
    if not -MAX_DRIFT <= drift <= MAX_DRIFT:
        raise ValueError(f"the time drift must be within {MAX_DRIFT} time steps")
    return drift


def parse_algorithm(text: str | None) -> OtpAlgorithm:
    """``SHA256``, ``sha-256``, ``HMAC-SHA256``, ``HmacSHA256``...; SHA1 when empty."""
    if text is None or not text.strip():
        return OtpAlgorithm.SHA1
    name = text.strip().upper()
    for junk in ("-", "_", " "):
        name = name.replace(junk, "")
    name = name.removeprefix("HMAC")
    try:
        return OtpAlgorithm(name)
    except ValueError:
        raise ValueError("the hash algorithm must be SHA1, SHA256 or SHA512") from None


def parse_type(text: str | None) -> OtpType:
    """``totp`` or ``hotp`` in any case; TOTP when empty."""
    if text is None or not text.strip():
        return OtpType.TOTP
    try:
        return OtpType(text.strip().lower())
    except ValueError:
        raise ValueError("the token type must be TOTP or HOTP") from None


def parse_int(name: str, text: str) -> int:
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit():
        raise ValueError(f"the {name} is not a whole number")
    if len(cleaned) > 19:
        raise ValueError(f"the {name} is too large")
    return int(cleaned)


class Checker:
    """Runs one check after another, keeping the reason of every failure."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def __call__(self, fn: Callable[[], T], default: T) -> T:
        try:
            return fn()
        except ValueError as exc:
            self.reasons.append(str(exc))
            return default
