"""The mobile authenticator's factor: device keys, signed answers, number matching.

The device holds its private key; here we only check its signatures: Ed25519, or ECDSA
P-256 with SHA-256 (DER). The strings signed are fixed by docs/device-api.md.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from twostep.domain.entities import MethodKind
from twostep.domain.errors import InvalidInput
from twostep.factors.base import Family, Kind

KEY_TYPES = ("ed25519", "p256")
DECISIONS = ("approve", "deny", "fraud")
CLOCK_SKEW = 60  # seconds a device's signed timestamp may be off


def b64decode(text: str, field: str) -> bytes:
    """base64url without padding, as the device API writes binary values."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{field} is not base64url", field=field) from exc


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def check_public_key(key_type: str, raw: bytes) -> bytes:
    """The key as stored (validated: a point on the curve), or InvalidInput."""
    try:
        if key_type == "ed25519":
            Ed25519PublicKey.from_public_bytes(raw)
        elif key_type == "p256":
            if len(raw) != 65 or raw[0] != 4:
                raise ValueError("not an uncompressed point")
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        else:
            raise InvalidInput("key_type must be ed25519 or p256", field="key_type")
    except ValueError as exc:
        raise InvalidInput(f"public_key is not a valid {key_type} key", field="public_key") from exc
    return raw


def verify(key_type: str, public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        if key_type == "ed25519":
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        else:
            point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
            point.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def request_string(method: str, path: str, timestamp: int) -> bytes:
    """What a device signs for each API call (its Authorization header)."""
    return f"{method.upper()}\n{path}\n{timestamp}".encode()


def answer_string(transaction_id: str, decision: str, number: int | None, nonce: str) -> bytes:
    """What a device signs to answer a sign-in request."""
    shown = "" if number is None else str(number)
    return f"twostep-push-v1\n{transaction_id}\n{decision}\n{shown}\n{nonce}".encode()


def new_number() -> int:
    """Two digits for number matching, 10-99 (no leading zero to misread)."""
    return 10 + secrets.randbelow(90)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def new_activation_code() -> str:
    """16 characters of Crockford-like base32 (80 bits), easy to type in groups of four."""
    alphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U
    return "".join(secrets.choice(alphabet) for _ in range(16))


def normalise_activation_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


KIND = Kind(
    kind=MethodKind.APP_PUSH,
    title="Approve on the mobile app",  # what people read (the pages translate it)
    family=Family.PUSH,
    words=("push", "app_push", "app"),
    settings=(
        "push_timeout",
        "push_message",
        "push_max_pending",
        "push_user_limit",
        "push_pause_after",
        "push_pause_seconds",
        "activation_seconds",
        "fraud_blocks_user",
    ),
    # No enrollment fields: a device's activation registers app_push (and app_code).
)
