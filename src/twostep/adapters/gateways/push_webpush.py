"""Web Push: RFC 8030 delivery, VAPID (RFC 8292) and aes128gcm payload encryption
(RFC 8291), through ``pywebpush``.

The browser (or app) subscribes with the server's VAPID public key
(:func:`vapid_public_key`, base64url of the uncompressed P-256 point) and sends its
subscription as the device's push channel: ``endpoint`` (the push service URL),
``p256dh`` (its P-256 public key) and ``auth`` (a 16-byte secret), both base64url.
Each push is encrypted to that key, so the push service never reads it, and carries a
VAPID token signed with the server's key, so only this server can push to the
subscription.

The server key is an EC P-256 private key in a PEM file, created (mode 0600) on first
use. Every node of a deployment must share it: subscriptions are bound to it.

``pywebpush`` and ``py_vapid`` come with the ``webpush`` extra and are imported only when
a notifier is built: this module imports without them (the device API reads the public
key through it), and :func:`available` tells whether Web Push can be offered.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import importlib.util
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import Field

from twostep.adapters.gateways.push_channel import (
    MAX_URL_LENGTH,
    WRITE_ONLY,
    PushChannel,
    host_of,
    https_url,
    parse_channel,
)
from twostep.domain.delivery import ChannelGone, GatewayError
from twostep.domain.errors import InvalidInput, InvalidSetting

KIND = "webpush"
VAPID_LIFETIME = 12 * 3600  # seconds a VAPID token is valid (RFC 8292 allows up to 24 h)
TTL = 60  # seconds the push service keeps an undelivered push: a request expires by then
GONE = frozenset({404, 410})
LIBRARIES = ("pywebpush", "py_vapid")  # what the webpush extra installs
MISSING = "Web Push needs the webpush extra: pip install 'twostep[webpush]'"


class WebPushChannel(PushChannel):
    """A Web Push subscription (RFC 8030, keys of RFC 8291), from PushManager.subscribe."""

    kind: Literal["webpush"]
    endpoint: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="the subscription's https URL (http only to a loopback host)",
        json_schema_extra=WRITE_ONLY,
    )
    p256dh: str = Field(
        min_length=1,
        max_length=200,
        description="base64url of the 65-byte P-256 point",
        json_schema_extra=WRITE_ONLY,
    )
    auth: str = Field(
        min_length=1,
        max_length=100,
        description="base64url of 16 bytes",
        json_schema_extra=WRITE_ONLY,
    )


def available() -> bool:
    """Whether Web Push's libraries are installed (found, not imported: they are large)."""
    return all(importlib.util.find_spec(name) is not None for name in LIBRARIES)


class WebPushNotifier:
    """Implements :class:`twostep.domain.delivery.PushNotifier` for Web Push."""

    kind = KIND

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        subject: str,
        *,
        timeout: float = 5.0,
        ttl: int = TTL,
    ) -> None:
        """``subject`` is the VAPID contact: ``mailto:admin@example.com`` or
        ``https://host``. Raises InvalidSetting if the key or subject is unusable, or
        without the webpush extra."""
        if not available():
            raise InvalidSetting(MISSING)
        from py_vapid import Vapid02, VapidException  # type: ignore[import-untyped]

        if not isinstance(private_key.curve, ec.SECP256R1):
            raise InvalidSetting("the VAPID key must be an EC P-256 key")
        self._vapid = Vapid02(private_key)
        self._subject = subject
        self._timeout = timeout
        self._ttl = ttl
        self.public_key = _public_key_b64(private_key)
        try:  # py_vapid refuses a subject it would not sign: find out now, not per push
            self._vapid.sign(self._claims("https://push.example.com"))
        except VapidException as exc:
            raise InvalidSetting(
                "the VAPID subject must be a mailto: address or an https://host URL",
                field="vapid_subject",
            ) from exc

    @classmethod
    def from_key_file(
        cls, path: Path, subject: str, *, timeout: float = 5.0, ttl: int = TTL
    ) -> WebPushNotifier:
        """Load the VAPID key from ``path``, creating it there (mode 0600) if missing."""
        return cls(load_or_create_vapid_key(path), subject, timeout=timeout, ttl=ttl)

    def check_channel(self, channel: Mapping[str, str]) -> dict[str, str]:
        given = parse_channel(WebPushChannel, channel, KIND)
        endpoint = https_url(given.endpoint, "endpoint")
        p256dh = _b64decode(given.p256dh, "p256dh")
        auth = _b64decode(given.auth, "auth")
        if len(p256dh) != 65:  # RFC 8291: the uncompressed point
            raise InvalidInput("push p256dh must be an uncompressed point", field="push.p256dh")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
        except ValueError:
            raise InvalidInput(
                "push p256dh is not a P-256 public key", field="push.p256dh"
            ) from None
        if len(auth) != 16:
            raise InvalidInput("push auth must be 16 bytes", field="push.auth")
        return {"endpoint": endpoint, "p256dh": _b64encode(p256dh), "auth": _b64encode(auth)}

    def notify(self, channel: Mapping[str, str], payload: bytes) -> None:
        # Imported on the first push: pywebpush (with requests) costs ~35 MiB per process,
        # which servers whose devices only pull should not pay.
        from py_vapid import VapidException
        from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]

        endpoint = channel.get("endpoint", "")
        host = host_of(endpoint)
        subscription = {
            "endpoint": endpoint,
            "keys": {"p256dh": channel.get("p256dh", ""), "auth": channel.get("auth", "")},
        }
        try:
            parts = urlsplit(endpoint)
            webpush(
                subscription,
                data=payload or None,
                vapid_private_key=self._vapid,
                vapid_claims=self._claims(f"{parts.scheme}://{parts.netloc}"),  # the origin
                timeout=self._timeout,
                ttl=self._ttl,
                headers={"Urgency": "high"},  # RFC 8030 §5.3: a sign-in is waiting
            )
        except WebPushException as exc:
            # str(exc) holds the service's answer body: only the status is kept.
            status = exc.status_code
            if status in GONE:
                raise ChannelGone(
                    f"web push ({host}): the subscription is gone ({status})"
                ) from None
            if status is None:
                raise GatewayError(f"web push ({host}): the channel is unusable") from None
            raise GatewayError(f"web push ({host}): the push service answered {status}") from None
        except OSError as exc:  # requests' errors are OSErrors; their text holds the URL
            raise GatewayError(
                f"web push ({host}): no answer from the push service ({type(exc).__name__})"
            ) from None
        except (ValueError, TypeError, binascii.Error, VapidException):
            raise GatewayError(f"web push ({host}): the channel is unusable") from None

    def _claims(self, audience: str) -> dict[str, str | int]:
        # A fresh dict each time: pywebpush writes into the claims it is given.
        return {"sub": self._subject, "aud": audience, "exp": int(time.time()) + VAPID_LIFETIME}


def load_or_create_vapid_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The VAPID private key in ``path`` (PEM); a new P-256 key, written with mode 0600,
    if the file does not exist. Raises InvalidSetting for a file that is not one."""
    if not path.exists():
        _create_key_file(path)
    return _load_key(path)


def vapid_public_key(path: Path) -> str:
    """The VAPID public key for the device API: base64url (no padding) of the
    uncompressed point, as ``PushManager.subscribe({applicationServerKey})`` takes it.
    Reads the key file that :func:`notifiers_from_config` created (FileNotFoundError
    before that)."""
    return _public_key_b64(_load_key(path))


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidSetting(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidSetting(f"{path} is not an EC P-256 key (VAPID needs one)")
    return key


def _create_key_file(path: Path) -> None:
    """Write a new key without a moment of wider permissions; a node that loses the race
    to create it keeps the winner's key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)  # atomic, and never replaces an existing key
    finally:
        temp.unlink()


def _public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64encode(point)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(value: str, name: str) -> bytes:
    try:
        padded = value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (ValueError, binascii.Error):
        raise InvalidInput(f"push {name} must be base64url", field=f"push.{name}") from None
