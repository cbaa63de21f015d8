"""Compact HS256 tokens (JWS compact serialisation, RFC 7515; JWT claims, RFC 7519): the
hosted sign-in's request and result (docs/hosted-signin.md).

Only what the hosted sign-in needs, so any JWT library on the other side reads and makes
them: ``base64url(header).base64url(payload).base64url(HMAC-SHA256)`` without padding,
header ``{"alg": "HS256", "typ": "JWT", "kid": ...}``. Reading is strict: one algorithm
(never ``none``), a bounded size, JSON objects without repeated keys, canonical base64url;
the MAC is compared in constant time. Errors are ``SigninRequestInvalid`` (the shape) and
``SigninRequestSignature`` (the MAC or the algorithm), so a caller maps them once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from twostep.domain.errors import SigninRequestInvalid, SigninRequestSignature

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 4096  # characters: a request in a URL stays well under common limits
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Unpadded base64url only; a length no encoder makes (4n+1) is refused, and so is a
    last character with unused bits set (one token, one spelling)."""
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise SigninRequestInvalid("a token part is not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SigninRequestInvalid("a token part is not base64url") from exc
    if b64url_encode(data) != text:
        raise SigninRequestInvalid("a token part is not canonical base64url")
    return data


def mac(key: bytes, signing_input: bytes) -> bytes:
    return hmac.new(key, signing_input, hashlib.sha256).digest()


def encode(claims: dict[str, Any], key: bytes, kid: str) -> str:
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": kid}
    parts = [_json_part(header), _json_part(claims)]
    signing_input = ".".join(parts).encode("ascii")
    return f"{parts[0]}.{parts[1]}.{b64url_encode(mac(key, signing_input))}"


def _json_part(value: dict[str, Any]) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return b64url_encode(text.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Unverified:
    """A token split and parsed, its MAC not checked yet: the header names the key."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None

    def verify(self, key: bytes) -> None:
        """Raise unless the MAC is ``key``'s (compared in constant time)."""
        if not hmac.compare_digest(mac(key, self.signing_input), self.signature):
            raise SigninRequestSignature("the request's signature does not verify")


def parse(token: str) -> Unverified:
    """Split and parse a token; the algorithm is checked here, before any key is looked up."""
    if not isinstance(token, str) or not token:
        raise SigninRequestInvalid("no request token")
    if len(token) > MAX_TOKEN_LENGTH:
        raise SigninRequestInvalid(f"the request token is over {MAX_TOKEN_LENGTH} characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise SigninRequestInvalid("a token has three parts separated by dots")
    header = _json_object(b64url_decode(parts[0]), "header")
    claims = _json_object(b64url_decode(parts[1]), "payload")
    signature = b64url_decode(parts[2])
    if header.get("alg") != ALGORITHM:
        raise SigninRequestSignature("the request's alg must be HS256")
    if "crit" in header:  # no extension is understood, so none may be critical
        raise SigninRequestSignature("the request's header has crit extensions")
    if header.get("typ", "JWT") != "JWT":
        raise SigninRequestInvalid("the request's typ must be JWT")
    return Unverified(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:  # parsers disagree on which one wins: refuse both
            raise SigninRequestInvalid(f"the token repeats the key {key!r}")
        found[key] = value
    return found


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _json_object(data: bytes, part: str) -> dict[str, Any]:
    try:
        value = json.loads(
            data.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_no_constant
        )
    except SigninRequestInvalid:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SigninRequestInvalid(f"the token's {part} is not JSON") from exc
    if not isinstance(value, dict):
        raise SigninRequestInvalid(f"the token's {part} is not a JSON object")
    return value
