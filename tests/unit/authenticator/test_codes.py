"""Offline codes against the RFC 6238 test vectors (SHA-1 seed, as the server hands out)."""

from __future__ import annotations

import pytest

from twostep.authenticator.codes import current
from twostep.authenticator.errors import KeystoreError
from twostep.authenticator.model import Totp

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890"


@pytest.mark.parametrize(
    ("now", "code", "left"),
    [(59, "94287082", 1), (1111111109, "07081804", 1), (1234567890, "89005924", 30)],
)
def test_rfc6238_vectors(now: float, code: str, left: int) -> None:
    result = current(Totp(RFC_SECRET, "SHA1", 8, 30), now)
    assert (result.code, result.seconds_left) == (code, left)


def test_six_digits_and_seconds_left_round_up() -> None:
    result = current(Totp(RFC_SECRET), 1111111109.5)
    assert result.code == "081804"
    assert result.seconds_left == 1
    assert current(Totp(RFC_SECRET), 1111111080.2).seconds_left == 30


@pytest.mark.parametrize(
    "totp",
    [
        Totp("not base32!"),
        Totp(RFC_SECRET, algorithm="MD5"),
        Totp(RFC_SECRET, digits=12),
        Totp(RFC_SECRET, period=0),
    ],
)
def test_unusable_settings_are_a_keystore_error(totp: Totp) -> None:
    with pytest.raises(KeystoreError):
        current(totp, 59)
