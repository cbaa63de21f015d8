"""The device's key pair and the two signatures of the device API (docs/device-api.md).

- §2, every device call: ``Authorization: TwostepDevice id=<device>, ts=<unix seconds>,
  sig=<b64url>`` where ``sig`` signs ``"<METHOD>\\n<path with query>\\n<ts>"``.
- §3, an answer: ``signature`` signs
  ``"twostep-push-v1\\n<transaction_id>\\n<decision>\\n<number or empty>\\n<nonce>"``.

Ed25519 signs the UTF-8 bytes as they are; ECDSA P-256 signs them with SHA-256 and the
signature is DER. Binary values travel as base64url without padding.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from twostep.authenticator.errors import KeystoreError

ANSWER_PREFIX = "twostep-push-v1"
AUTH_SCHEME = "TwostepDevice"


class KeyType(StrEnum):
    ED25519 = "ed25519"
    P256 = "p256"


PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding. Raises ValueError."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


@dataclass(frozen=True, slots=True)
class DeviceKey:
    """The device's private key. It never leaves the device: only ``public_bytes`` does."""

    key_type: KeyType
    private: PrivateKey

    @classmethod
    def generate(cls, key_type: KeyType = KeyType.ED25519) -> DeviceKey:
        if key_type is KeyType.P256:
            return cls(key_type, ec.generate_private_key(ec.SECP256R1()))
        return cls(KeyType.ED25519, ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: str) -> DeviceKey:
        """Load a PKCS#8 PEM private key (unencrypted) of either supported type."""
        try:
            key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError) as exc:
            raise KeystoreError(f"the stored private key cannot be read: {exc}") from exc
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return cls(KeyType.ED25519, key)
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            return cls(KeyType.P256, key)
        raise KeystoreError("the stored private key is neither Ed25519 nor ECDSA P-256")

    def to_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def public_bytes(self) -> bytes:
        """Ed25519: the 32 raw bytes; P-256: the SEC1 uncompressed point (65 bytes)."""
        if isinstance(self.private, ed25519.Ed25519PrivateKey):
            return self.private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        return self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def public_key_b64(self) -> str:
        return b64url(self.public_bytes())

    def sign(self, message: bytes) -> bytes:
        if isinstance(self.private, ed25519.Ed25519PrivateKey):
            return self.private.sign(message)
        return self.private.sign(message, ec.ECDSA(hashes.SHA256()))


def request_message(method: str, path_with_query: str, ts: int) -> bytes:
    """What the Authorization header signs: ``"<METHOD>\\n<path with query>\\n<ts>"``."""
    return f"{method.upper()}\n{path_with_query}\n{ts}".encode()


def authorization(
    key: DeviceKey, device_id: str, method: str, path_with_query: str, ts: int
) -> str:
    """The ``Authorization`` header value for one device call."""
    sig = b64url(key.sign(request_message(method, path_with_query, ts)))
    return f"{AUTH_SCHEME} id={device_id}, ts={ts}, sig={sig}"


def answer_message(transaction_id: str, decision: str, number: int | None, nonce: str) -> bytes:
    """What an answer's ``signature`` signs. ``number`` is written in decimal (``7``, not
    ``07``), and is empty when there is none; ``nonce`` is the request's nonce as received."""
    shown = "" if number is None else str(number)
    return f"{ANSWER_PREFIX}\n{transaction_id}\n{decision}\n{shown}\n{nonce}".encode()


def answer_signature(
    key: DeviceKey, transaction_id: str, decision: str, number: int | None, nonce: str
) -> str:
    return b64url(key.sign(answer_message(transaction_id, decision, number, nonce)))
