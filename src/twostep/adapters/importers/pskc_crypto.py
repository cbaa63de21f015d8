"""The cryptography of RFC 6030 files.

Done here rather than by python-pskc's value accessors so that every MAC is checked,
in constant time, over the ciphertext *before* any key value is decrypted (python-pskc
decrypts first and compares after, and accepts a MAC over the plaintext too), and so
that Triple DES comes from cryptography's ``decrepit`` module (python-pskc 1.4 reaches
it through the deprecated ``primitives`` path). Error reasons never quote key material.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, modes
from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_unwrap_with_padding,
)
from pskc.algorithms import normalise_algorithm

_CBC: dict[str, tuple[type[AES] | type[TripleDES], tuple[int, ...]]] = {
    "aes128-cbc": (AES, (16,)),
    "aes192-cbc": (AES, (24,)),
    "aes256-cbc": (AES, (32,)),
    "tripledes-cbc": (TripleDES, (16, 24)),
}
_KEY_WRAP: dict[str, tuple[int, ...]] = {
    "kw-aes128": (16,),
    "kw-aes192": (24,),
    "kw-aes256": (32,),
}
_HMAC = {
    "hmac-sha1": "sha1",
    "hmac-sha224": "sha224",
    "hmac-sha256": "sha256",
    "hmac-sha384": "sha384",
    "hmac-sha512": "sha512",
}

ENCRYPTION_NAMES = tuple(_CBC) + tuple(_KEY_WRAP)
MAC_NAMES = tuple(_HMAC)
# A file may ask for any PBKDF2 cost; past this it is an attack on the importing node.
MAX_PBKDF2_ITERATIONS = 5_000_000


class CryptoError(ValueError):
    """A value cannot be decrypted or verified; the message is safe to show."""


def short_name(uri: str | None) -> str | None:
    """``aes128-cbc`` for ``http://www.w3.org/2001/04/xmlenc#aes128-cbc``, and so on."""
    normalised = normalise_algorithm(uri)
    if normalised is None:
        return None
    return normalised.rsplit("#", 1)[-1].lower()


def key_lengths(name: str) -> tuple[int, ...]:
    if name in _CBC:
        return _CBC[name][1]
    if name in _KEY_WRAP:
        return _KEY_WRAP[name]
    raise CryptoError(
        f"the encryption algorithm {name[:60]!r} is not supported "
        f"(supported: {', '.join(ENCRYPTION_NAMES)})"
    )


def needs_mac(name: str) -> bool:
    """CBC gives no integrity: RFC 6030 pairs it with a MAC. Key wrap carries its own check."""
    return name in _CBC


def check_mac_name(name: str | None) -> str:
    if name not in _HMAC:
        shown = "none" if name is None else repr(name[:60])
        raise CryptoError(
            f"the MAC algorithm {shown} is not supported (supported: {', '.join(MAC_NAMES)})"
        )
    return name


def mac_matches(name: str, mac_key: bytes, value: bytes, expected: bytes) -> bool:
    digest = hmac.new(mac_key, value, _HMAC[check_mac_name(name)]).digest()
    return hmac.compare_digest(digest, expected)


def decrypt(name: str, key: bytes, cipher_value: bytes, iv: bytes | None = None) -> bytes:
    """The plaintext; CryptoError when the key is wrong or the value is damaged."""
    if len(key) not in key_lengths(name):
        raise CryptoError("the key has the wrong length for the encryption algorithm")
    if name in _KEY_WRAP:
        try:
            if len(cipher_value) % 8 == 0 and len(cipher_value) >= 24:
                try:
                    return aes_key_unwrap(key, cipher_value)  # RFC 3394
                except InvalidUnwrap:
                    pass
            return aes_key_unwrap_with_padding(key, cipher_value)  # RFC 5649
        except (InvalidUnwrap, ValueError):
            raise CryptoError(
                "cannot decrypt: wrong key or password, or the file was altered"
            ) from None
    algorithm_cls = _CBC[name][0]
    if algorithm_cls is TripleDES and len(key) == 16:
        key += key[:8]  # two-key Triple DES is K1 K2 K1; cryptography wants it spelled out
    algorithm: BlockCipherAlgorithm = algorithm_cls(key)
    block = algorithm.block_size // 8
    if iv is None:
        iv, cipher_value = cipher_value[:block], cipher_value[block:]
    if len(iv) != block or not cipher_value or len(cipher_value) % block:
        raise CryptoError("the encrypted value is malformed")
    decryptor = Cipher(algorithm, modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(algorithm.block_size).unpadder()
    try:
        padded = decryptor.update(cipher_value) + decryptor.finalize()
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise CryptoError(
            "cannot decrypt: wrong key or password, or the file was altered"
        ) from None


def derive_pbkdf2(
    password: str, salt: bytes | None, iterations: int | None, length: int, prf: str | None
) -> bytes:
    """PBKDF2 as the file describes it: its PRF (HMAC-SHA1 when none), salt and count."""
    name = prf or "hmac-sha1"
    hash_name = _HMAC.get(name)
    if hash_name is None:
        raise CryptoError(f"the PBKDF2 function {name[:60]!r} is not supported")
    if not salt:
        raise CryptoError("the PBKDF2 parameters have no salt")
    if not iterations or iterations < 1:
        raise CryptoError("the PBKDF2 parameters have no iteration count")
    if iterations > MAX_PBKDF2_ITERATIONS:
        raise CryptoError(
            f"the PBKDF2 iteration count {iterations} is above the limit of {MAX_PBKDF2_ITERATIONS}"
        )
    return hashlib.pbkdf2_hmac(hash_name, password.encode("utf-8"), salt, iterations, length)


def decode_int(plaintext: bytes) -> int:
    """An integer value as RFC 6030 files carry it: ASCII digits (a TimeDrift may be
    negative), else big-endian bytes."""
    digits = plaintext.removeprefix(b"-")
    if digits.isdigit() and len(digits) <= 19:
        return int(plaintext)
    return int.from_bytes(plaintext, "big")
