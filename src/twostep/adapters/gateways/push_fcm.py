"""Firebase Cloud Messaging, HTTP v1 API.

The device's channel is ``{"token": "<FCM registration token>"}``. The server holds a
Google service account (its JSON key file: ``project_id``, ``client_email``,
``private_key``, ``token_uri``) and sends a data message::

    POST {endpoint}/v1/projects/{project_id}/messages:send
    Authorization: Bearer <access token>
    {"message": {"token": "...", "data": {"type": "request"}, ...}}

The access token comes from Google's OAuth 2.0 server-to-server flow (RFC 7523): a JWT
``{iss: client_email, scope: .../firebase.messaging, aud: token_uri, iat, exp}`` signed
RS256 with the service account's key is posted to ``token_uri`` as
``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``; the answer's
``access_token`` is kept until a minute before its ``expires_in``. The JWT is signed here
with ``cryptography`` (a dozen lines) rather than with ``google-auth``, whose token call
has no settable timeout (120 s) and retries on its own: a sign-in is waiting, and every
call here is bounded by ``timeout``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import Field

from twostep.adapters.gateways.push_channel import (
    WRITE_ONLY,
    PushChannel,
    parse_channel,
    push_url,
)
from twostep.domain.delivery import ChannelGone, GatewayError
from twostep.domain.errors import InvalidInput, InvalidSetting

KIND = "fcm"
DEFAULT_ENDPOINT = "https://fcm.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # seconds; Google's maximum
REFRESH_MARGIN = 60  # seconds before expiry a cached access token is replaced
TTL = "60s"  # how long FCM keeps an undelivered request: it expires by then
_TOKEN = re.compile(r"[A-Za-z0-9_:.\-]{1,4096}")
_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")  # an error code is safe to show; a message may not be
_FIELDS = ("project_id", "client_email", "private_key", "token_uri")


class FcmChannel(PushChannel):
    """A Firebase Cloud Messaging registration token."""

    kind: Literal["fcm"]
    token: str = Field(
        min_length=1,
        max_length=4096,
        description="the FCM registration token",
        json_schema_extra=WRITE_ONLY,
    )


class FcmNotifier:
    """Implements :class:`twostep.domain.delivery.PushNotifier` for FCM HTTP v1."""

    kind = KIND

    def __init__(
        self,
        service_account: Mapping[str, Any],
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``service_account``: the parsed JSON key file. Raises InvalidSetting."""
        for name in _FIELDS:
            if not isinstance(service_account.get(name), str) or not service_account[name]:
                raise InvalidSetting(f"the FCM service account has no {name}", field=name)
        try:
            key = serialization.load_pem_private_key(
                service_account["private_key"].encode(), password=None
            )
        except (ValueError, TypeError):
            key = None  # the exception's text is not shown: it is about a private key
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InvalidSetting("the FCM service account's private_key is not an RSA key")
        self._key = key
        self._key_id = service_account.get("private_key_id")
        self._email: str = service_account["client_email"]
        self._project: str = service_account["project_id"]
        self._token_uri = _checked_url(service_account["token_uri"], "token_uri")
        self._send_url = (
            f"{_checked_url(endpoint, 'fcm_endpoint').rstrip('/')}"
            f"/v1/projects/{self._project}/messages:send"
        )
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._access: tuple[str, float] | None = None  # token, when to replace it

    @classmethod
    def from_file(
        cls, path: Path, *, endpoint: str = DEFAULT_ENDPOINT, timeout: float = 5.0
    ) -> FcmNotifier:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidSetting(f"cannot read the FCM service account file {path}") from exc
        if not isinstance(data, dict):
            raise InvalidSetting(f"{path} is not a service account JSON file")
        return cls(data, endpoint=endpoint, timeout=timeout)

    def check_channel(self, channel: Mapping[str, str]) -> dict[str, str]:
        token = parse_channel(FcmChannel, channel, KIND).token
        if not _TOKEN.fullmatch(token):
            raise InvalidInput("push token is not an FCM registration token", field="push.token")
        return {"token": token}

    def notify(self, channel: Mapping[str, str], payload: bytes) -> None:
        message = {
            "message": {
                "token": channel.get("token", ""),
                "data": _data(payload),
                "android": {"priority": "high", "ttl": TTL},  # wake the app from Doze
            }
        }
        response = self._send(message)
        if response.status_code == 401:  # the token was revoked early: one new one, one retry
            self._forget(response)
            response = self._send(message)
        status = response.status_code
        if 200 <= status < 300:
            return
        code = _error_code(response)
        if status == 404 or code == "UNREGISTERED":
            raise ChannelGone(f"fcm: the registration token is gone ({status} {code})".strip())
        raise GatewayError(f"fcm: FCM answered {status} {code}".strip())

    def _send(self, message: dict[str, Any]) -> httpx.Response:
        token = self._access_token()
        return self._post(
            self._send_url, "FCM", json=message, headers={"Authorization": f"Bearer {token}"}
        )

    def _access_token(self) -> str:
        with self._lock:  # one token request at a time; the others wait for its answer
            now = self._clock()
            if self._access is not None and now < self._access[1]:
                return self._access[0]
            response = self._post(
                self._token_uri,
                "the token endpoint",
                data={"grant_type": GRANT_TYPE, "assertion": self._assertion(now)},
            )
            try:
                data = response.json()
            except (ValueError, UnicodeDecodeError):
                data = None
            if response.status_code != 200 or not isinstance(data, dict):
                error = data.get("error") if isinstance(data, dict) else None
                code = error if isinstance(error, str) and _CODE.fullmatch(error) else ""
                raise GatewayError(
                    f"fcm: the token endpoint answered {response.status_code} {code}".strip()
                )
            token, lifetime = data.get("access_token"), data.get("expires_in", 3600)
            if not isinstance(token, str) or not token or not isinstance(lifetime, int | float):
                raise GatewayError("fcm: the token endpoint gave no access token")
            self._access = (token, now + max(float(lifetime) - REFRESH_MARGIN, 0.0))
            return token

    def _forget(self, response: httpx.Response) -> None:
        with self._lock:
            used = response.request.headers.get("authorization", "").removeprefix("Bearer ")
            if self._access is not None and self._access[0] == used:
                self._access = None

    def _assertion(self, now: float) -> str:
        header: dict[str, str] = {"alg": "RS256", "typ": "JWT"}
        if isinstance(self._key_id, str) and self._key_id:
            header["kid"] = self._key_id
        issued = int(now)
        claims = {
            "iss": self._email,
            "scope": SCOPE,
            "aud": self._token_uri,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME,
        }
        signing_input = f"{_b64json(header)}.{_b64json(claims)}".encode()
        signature = self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64(signature)}"

    def _post(self, url: str, what: str, **request: Any) -> httpx.Response:
        try:
            return httpx.post(url, timeout=self._timeout, **request)
        except httpx.TimeoutException:
            raise GatewayError(f"fcm: no answer from {what} within {self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise GatewayError(f"fcm: cannot reach {what} ({type(exc).__name__})") from None


def _data(payload: bytes) -> dict[str, str]:
    """FCM data values are strings: ``{"type": "request"}`` stays as it is."""
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise GatewayError("fcm: the push payload must be a JSON object")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}


def _error_code(response: httpx.Response) -> str:
    """FCM's ``errorCode`` (``UNREGISTERED``…) or the error's ``status``; never its message."""
    try:
        error = response.json().get("error", {})
        codes = [d.get("errorCode") for d in error.get("details", []) if isinstance(d, dict)]
        codes.append(error.get("status"))
    except (ValueError, UnicodeDecodeError, AttributeError, TypeError):
        return ""
    return next((c for c in codes if isinstance(c, str) and _CODE.fullmatch(c)), "")


def _checked_url(url: str, name: str) -> str:
    try:
        return push_url({name: url}, name, KIND)
    except InvalidInput as exc:
        raise InvalidSetting(f"{name} must be an https URL", field=name) from exc


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(value: Mapping[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())
