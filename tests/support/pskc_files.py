"""PSKC files written by python-pskc (an independent writer), for the pages' imports: a
good file encrypted with a pre-shared key, and a file whose second key is refused."""

from __future__ import annotations

import io
import warnings

from cryptography.utils import CryptographyDeprecationWarning
from pskc import PSKC

TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
KEY = bytes(range(1, 17))  # the pre-shared AES-128 key, as the operator would type it in hex
SEED = b"12345678901234567890"


def _written(container: PSKC) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        container.write(out)
    return out.getvalue()


def encrypted(serials: list[str]) -> bytes:
    """TOTP keys with these serials, their secrets under ``KEY`` (AES-128-CBC, HMAC-SHA256)."""
    container = PSKC()
    for number, serial in enumerate(serials):
        container.add_key(
            id=f"k{number}", serial=serial, secret=SEED, algorithm=TOTP, time_interval=30
        )
    container.mac.setup(algorithm="hmac-sha256")
    container.encryption.setup_preshared_key(key=KEY, algorithm="aes128-cbc", fields=["secret"])
    return _written(container)


def one_bad_key(good: str, bad: str) -> bytes:
    """Two plain keys; the second's secret is 4 bytes (under the 10 RFC 4226 asks)."""
    container = PSKC()
    container.add_key(id="good", serial=good, secret=SEED, algorithm=TOTP, time_interval=30)
    container.add_key(id="bad", serial=bad, secret=b"1234", algorithm=TOTP, time_interval=30)
    return _written(container)
