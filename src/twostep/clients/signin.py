"""Twostep's hosted sign-in page, from the application's side: make the request, verify the
result, redeem it once (docs/hosted-signin.md). Standard library only: copy this one file
into an application that does not install Twostep.

The tokens are JWTs signed with HS256 (any JWT library reads them); this module checks
exactly what the guide lists, and raises :class:`SigninError` (its ``code`` says which
check failed) for anything else, garbage included. ``redeem`` calls Twostep over HTTP
with ``urllib.request`` (no dependency; pass ``timeout``).

Example (a web framework's two handlers)::

    from twostep.clients import signin

    TWOSTEP = "https://mfa.example.com"
    KEY_ID, SECRET = "0123456789abcdef", "tss_..."  # the integration key id, its signing secret
    INTEGRATION_KEY = "tsi_..."  # the integration's API key (for the redeem call)

    def start(session, user):  # after the primary password
        session["state"] = secrets.token_urlsafe(16)
        return redirect(signin.make_request(
            TWOSTEP, key_id=KEY_ID, secret=SECRET, user=user,
            redirect_uri="https://app.example.com/mfa/callback", state=session["state"]))

    def callback(session, query):  # GET /mfa/callback?result=...&state=...
        try:
            result = signin.verify_result(
                query["result"], key_id=KEY_ID, secret=SECRET, state=session.pop("state"))
            signin.redeem(TWOSTEP, integration_key=INTEGRATION_KEY, jti=result.jti)
        except signin.SigninError as exc:
            return deny(exc.code)
        if not result.accepted:
            return deny(result.reason)
        return signed_in(result.user)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

__all__ = ["RedeemError", "Result", "SigninError", "make_request", "redeem", "verify_result"]

AUDIENCE = "twostep:signin"  # a request's aud
ISSUER = "twostep"  # a result's iss
MAX_REQUEST_LIFETIME = 600
MAX_STATE = 512
MAX_TOKEN = 8192
LEEWAY = 5  # seconds of clock difference allowed around a result's iat and exp


class SigninError(Exception):
    """A result that must not be trusted, or a redeem that failed. ``code``: ``malformed``,
    ``bad_signature``, ``wrong_issuer``, ``wrong_audience``, ``expired``, ``not_yet_valid``,
    ``wrong_state``; for :class:`RedeemError` the server's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class RedeemError(SigninError):
    """The redeem call failed: ``code`` is the server's (``signin_result_redeemed``,
    ``signin_result_not_found``, ``unauthenticated``...) or ``unreachable``; ``status`` is
    the HTTP status (0 when no answer came)."""

    def __init__(self, code: str, message: str, status: int = 0) -> None:
        super().__init__(code, message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Result:
    """A result whose signature, issuer, audience, time and state verified."""

    user: str  # the user name as the application sent it
    result: str  # "accept" or "reject"
    reason: str | None  # why, for a reject (docs/error-codes.md, validate reasons)
    method: str | None  # the method used (app_code, app_push, sms...), when one was
    state: str
    jti: str  # redeem it once: redeem(..., jti=result.jti)
    issued_at: float
    expires_at: float

    @property
    def accepted(self) -> bool:
        return self.result == "accept"


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if len(text) % 4 == 1 or not text.isascii():
        raise SigninError("malformed", "a token part is not base64url")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigninError("malformed", "a token part is not base64url") from exc
    if _b64encode(data) != text:
        raise SigninError("malformed", "a token part is not canonical base64url")
    return data


def _mac(secret: str, signing_input: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()


def _sign(claims: dict[str, Any], secret: str, kid: str) -> str:
    def part(value: dict[str, Any]) -> str:
        return _b64encode(json.dumps(value, separators=(",", ":")).encode("utf-8"))

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{part(claims)}"
    return f"{signing_input}.{_b64encode(_mac(secret, signing_input.encode('ascii')))}"


def make_request(
    base_url: str,
    *,
    key_id: str,
    secret: str,
    user: str,
    redirect_uri: str,
    state: str,
    lifetime: int = 300,
    now: float | None = None,
    jti: str | None = None,
) -> str:
    """The URL of Twostep's sign-in page for ``user``, with a request signed by the
    integration's ``secret``; redirect the browser there. ``state`` (at most 512
    characters) comes back in the result: keep it in the user's session. ``ValueError``
    for arguments Twostep would refuse."""
    if not 0 < lifetime <= MAX_REQUEST_LIFETIME:
        raise ValueError(f"lifetime must be 1-{MAX_REQUEST_LIFETIME} seconds")
    if len(state) > MAX_STATE:
        raise ValueError(f"state must be at most {MAX_STATE} characters")
    if not user or not key_id or not secret:
        raise ValueError("user, key_id and secret are required")
    issued = math.floor(time.time() if now is None else now)
    claims = {
        "iss": key_id,
        "aud": AUDIENCE,
        "sub": user,
        "redirect_uri": redirect_uri,
        "state": state,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": jti or secrets.token_urlsafe(16),
    }
    query = urllib.parse.urlencode({"request": _sign(claims, secret, key_id)})
    return f"{base_url.rstrip('/')}/signin?{query}"


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise SigninError("malformed", f"the token repeats the key {key!r}")
        found[key] = value
    return found


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _json_object(data: bytes, part: str) -> dict[str, Any]:
    try:
        value = json.loads(
            data.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_no_constant
        )
    except SigninError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SigninError("malformed", f"the token's {part} is not JSON") from exc
    if not isinstance(value, dict):
        raise SigninError("malformed", f"the token's {part} is not a JSON object")
    return value


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SigninError("malformed", f"the result's {name} is not a number")
    return float(value)


def _text(claims: dict[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = claims.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise SigninError("malformed", f"the result's {name} is not a string")
    return value


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def verify_result(
    token: str,
    *,
    key_id: str,
    secret: str,
    state: str,
    now: float | None = None,
    leeway: float = LEEWAY,
) -> Result:
    """Verify a result (the ``result`` query parameter): HS256 under the integration's
    ``secret``, issued by Twostep for ``key_id``, not expired, carrying ``state`` (the
    one kept in the user's session). Then redeem its ``jti`` once, and sign the user in
    only if ``accepted``. Raises :class:`SigninError` for anything else."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise SigninError("malformed", "no result token, or one over 8192 characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise SigninError("malformed", "a token has three parts separated by dots")
    header = _json_object(_b64decode(parts[0]), "header")
    claims = _json_object(_b64decode(parts[1]), "payload")
    signature = _b64decode(parts[2])
    if header.get("alg") != "HS256" or "crit" in header:
        raise SigninError("bad_signature", "the result is not signed with HS256")
    expected = _mac(secret, f"{parts[0]}.{parts[1]}".encode("ascii"))
    if not hmac.compare_digest(expected, signature):
        raise SigninError("bad_signature", "the result's signature does not verify")
    if claims.get("iss") != ISSUER:
        raise SigninError("wrong_issuer", "the result was not issued by Twostep")
    if claims.get("aud") != key_id:
        raise SigninError("wrong_audience", "the result is for another integration")
    issued, expires = _number(claims, "iat"), _number(claims, "exp")
    moment = time.time() if now is None else now
    if expires + leeway <= moment:
        raise SigninError("expired", "the result has expired")
    if issued - leeway > moment:
        raise SigninError("not_yet_valid", "the result was issued in the future")
    found_state = _text(claims, "state")
    if found_state is None or not isinstance(state, str) or not _same(found_state, state):
        raise SigninError("wrong_state", "the result's state is not this session's")
    outcome = _text(claims, "result")
    if outcome not in ("accept", "reject"):
        raise SigninError("malformed", "the result's result is neither accept nor reject")
    user, jti = _text(claims, "sub"), _text(claims, "jti")
    assert user is not None and jti is not None and outcome is not None
    return Result(
        user=user,
        result=outcome,
        reason=_text(claims, "reason", optional=True),
        method=_text(claims, "method", optional=True),
        state=found_state,
        jti=jti,
        issued_at=issued,
        expires_at=expires,
    )


def redeem(base_url: str, *, integration_key: str, jti: str, timeout: float = 10.0) -> None:
    """Spend the result ``jti`` at Twostep (``POST /v1/signin/results/{jti}/redeem`` with
    the integration's API key): exactly one redeem of a result succeeds, so a result
    replayed to the application is refused. Raises :class:`RedeemError`."""
    path = f"/v1/signin/results/{urllib.parse.quote(jti, safe='')}/redeem"
    request = urllib.request.Request(  # noqa: S310 - the operator's own Twostep URL
        base_url.rstrip("/") + path,
        data=b"",
        method="POST",
        headers={"Authorization": f"Bearer {integration_key}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            answer.read()
    except urllib.error.HTTPError as exc:
        code, message = "http_error", f"HTTP {exc.code}"
        try:
            error = json.loads(exc.read()).get("error", {})
            code, message = str(error["code"]), str(error.get("message", message))
        except (ValueError, KeyError, TypeError, AttributeError, OSError):
            pass
        raise RedeemError(code, message, exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise RedeemError("unreachable", f"Twostep did not answer: {exc}") from exc
