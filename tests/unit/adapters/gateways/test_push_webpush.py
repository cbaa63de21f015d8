"""Web Push against a local push service: the test plays the browser and the push service.

The browser's side (its P-256 key pair and auth secret) is made here; the push service is
a recording HTTP server on loopback. Each push is checked the way a real push service and
browser would: the VAPID token (RFC 8292) is verified with ``cryptography``, not with the
library that made it, and the body is decrypted per RFC 8291 / RFC 8188 from the
primitives.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tests.support.fake_twilio import Recorder
from tests.support.postgres import free_port
from twostep.adapters.gateways.push_webpush import (
    WebPushNotifier,
    load_or_create_vapid_key,
    vapid_public_key,
)
from twostep.domain.delivery import ChannelGone, GatewayError, PushNotifier
from twostep.domain.errors import InvalidInput, InvalidSetting

SUBJECT = "mailto:admin@example.com"
PAYLOAD = b'{"type":"request"}'


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """A subscription's private side: what the browser keeps and the server never sees."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.auth = os.urandom(16)

    def channel(self, endpoint: str) -> dict[str, str]:
        return {"endpoint": endpoint, "p256dh": b64(self.public), "auth": b64(self.auth)}

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8188 aes128gcm with the RFC 8291 key derivation, one record."""
        salt, record_size, id_length = body[:16], int.from_bytes(body[16:20]), body[20]
        sender_public = body[21 : 21 + id_length]
        ciphertext = body[21 + id_length :]
        assert id_length == 65 and len(ciphertext) <= record_size
        shared = self.key.exchange(
            ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_public)
        )
        key_info = b"WebPush: info\x00" + self.public + sender_public
        ikm = HKDF(hashes.SHA256(), 32, salt=self.auth, info=key_info).derive(shared)
        cek = HKDF(hashes.SHA256(), 16, salt=salt, info=b"Content-Encoding: aes128gcm\x00")
        nonce = HKDF(hashes.SHA256(), 12, salt=salt, info=b"Content-Encoding: nonce\x00")
        padded = AESGCM(cek.derive(ikm)).decrypt(nonce.derive(ikm), ciphertext, None)
        content = padded.rstrip(b"\x00")
        assert content.endswith(b"\x02")  # the last record's delimiter
        return content[:-1]


def verify_vapid(authorization: str, server_key: str) -> dict[str, Any]:
    """Check ``vapid t=<JWT>, k=<key>`` as a push service does; return the claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme.lower() == "vapid"
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert fields["k"] == server_key
    header_b64, claims_b64, signature_b64 = fields["t"].split(".")
    assert json.loads(unb64(header_b64))["alg"] == "ES256"
    signature = unb64(signature_b64)
    assert len(signature) == 64
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
    public.verify(
        encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:])),
        f"{header_b64}.{claims_b64}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )  # raises InvalidSignature
    claims: dict[str, Any] = json.loads(unb64(claims_b64))
    return claims


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "vapid" / "vapid.pem"


@pytest.fixture
def notifier(key_path: Path) -> WebPushNotifier:
    return WebPushNotifier.from_key_file(key_path, SUBJECT, timeout=2)


def test_key_file_is_created_private_and_then_reused(key_path: Path) -> None:
    first = WebPushNotifier.from_key_file(key_path, SUBJECT)

    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key_path.read_bytes()
    assert vapid_public_key(key_path) == first.public_key
    point = unb64(first.public_key)
    assert len(point) == 65 and point[0] == 4
    assert WebPushNotifier.from_key_file(key_path, SUBJECT).public_key == first.public_key
    assert [p.name for p in key_path.parent.iterdir()] == ["vapid.pem"]  # no temp file left


def test_push_is_vapid_signed_and_encrypted_to_the_subscription(
    recorder: Recorder, notifier: WebPushNotifier, key_path: Path
) -> None:
    browser = Browser()
    recorder.answer = lambda _: (201, "")
    endpoint = f"{recorder.url}/push/v2/gAAAAABsubscription-id"
    channel = notifier.check_channel(browser.channel(endpoint))
    port: PushNotifier = notifier

    port.notify(channel, PAYLOAD)

    (req,) = recorder.requests
    assert (req.method, req.path) == ("POST", "/push/v2/gAAAAABsubscription-id")
    claims = verify_vapid(req.headers["authorization"], vapid_public_key(key_path))
    assert claims["aud"] == recorder.url  # the endpoint's origin
    assert claims["sub"] == SUBJECT
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    assert req.headers["content-encoding"] == "aes128gcm"
    assert req.headers["ttl"] == "60"
    assert req.headers["urgency"] == "high"
    assert PAYLOAD not in req.body
    assert browser.decrypt(req.body) == PAYLOAD


def test_another_key_cannot_pass_for_the_server(
    recorder: Recorder, notifier: WebPushNotifier, tmp_path: Path
) -> None:
    recorder.answer = lambda _: (201, "")
    notifier.notify(Browser().channel(f"{recorder.url}/push/1"), PAYLOAD)
    other = WebPushNotifier.from_key_file(tmp_path / "other.pem", SUBJECT)

    with pytest.raises(AssertionError):  # the k= key is not the one subscribed with
        verify_vapid(recorder.requests[0].headers["authorization"], other.public_key)
    forged = (
        recorder.requests[0].headers["authorization"].replace(notifier.public_key, other.public_key)
    )
    with pytest.raises(InvalidSignature):
        verify_vapid(forged, other.public_key)


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_raises_channel_gone(
    recorder: Recorder, notifier: WebPushNotifier, status: int
) -> None:
    recorder.answer = lambda _: (status, {"error": "subscription expired"})
    browser = Browser()

    with pytest.raises(ChannelGone) as caught:
        notifier.notify(browser.channel(f"{recorder.url}/push/expired-id"), PAYLOAD)

    assert isinstance(caught.value, GatewayError)
    assert str(status) in str(caught.value)
    assert "expired-id" not in str(caught.value)


def test_a_refusal_is_a_gateway_error_without_the_channel(
    recorder: Recorder, notifier: WebPushNotifier
) -> None:
    recorder.answer = lambda _: (500, {"error": "echo of secret-path-123"})
    browser = Browser()
    channel = browser.channel(f"{recorder.url}/push/secret-path-123")

    with pytest.raises(GatewayError) as caught:
        notifier.notify(channel, PAYLOAD)

    message = str(caught.value)
    assert not isinstance(caught.value, ChannelGone)
    assert "500" in message and "127.0.0.1" in message
    for secret in ("secret-path-123", channel["p256dh"], channel["auth"]):
        assert secret not in message


def test_a_slow_push_service_times_out(recorder: Recorder, key_path: Path) -> None:
    notifier = WebPushNotifier.from_key_file(key_path, SUBJECT, timeout=0.3)
    recorder.delay = 5

    started = time.monotonic()
    with pytest.raises(GatewayError, match="no answer"):
        notifier.notify(Browser().channel(f"{recorder.url}/push/1"), PAYLOAD)
    assert time.monotonic() - started < 3


def test_an_unreachable_push_service_is_a_gateway_error(notifier: WebPushNotifier) -> None:
    channel = Browser().channel(f"http://127.0.0.1:{free_port()}/push/1")

    with pytest.raises(GatewayError, match="no answer"):
        notifier.notify(channel, PAYLOAD)


def test_check_channel_normalises_the_keys(notifier: WebPushNotifier) -> None:
    browser = Browser()
    sent = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc:def",
        "p256dh": base64.urlsafe_b64encode(browser.public).decode(),  # padded
        "auth": base64.urlsafe_b64encode(browser.auth).decode(),
    }

    assert notifier.check_channel(sent) == {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc:def",
        "p256dh": b64(browser.public),
        "auth": b64(browser.auth),
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://push.example.com/x"}, "push.endpoint"),
        ({"endpoint": "ftp://127.0.0.1/x"}, "push.endpoint"),
        ({"endpoint": "https://user:pw@push.example.com/x"}, "push.endpoint"),
        ({"endpoint": "https:///x"}, "push.endpoint"),
        ({"endpoint": 42}, "push.endpoint"),
        ({"endpoint": None}, "push.endpoint"),
        ({"p256dh": b64(b"\x04" + bytes(64))}, "push.p256dh"),  # not on the curve
        ({"p256dh": b64(b"\x02" + os.urandom(32))}, "push.p256dh"),  # compressed
        ({"p256dh": "not base64!"}, "push.p256dh"),
        ({"auth": b64(os.urandom(15))}, "push.auth"),
        ({"auth": ""}, "push.auth"),
        ({"keys": "{}"}, "push.keys"),
    ],
)
def test_check_channel_refuses_a_bad_subscription(
    notifier: WebPushNotifier, change: dict[str, Any], field: str
) -> None:
    channel: dict[str, Any] = {**Browser().channel("https://push.example.com/x"), **change}
    channel = {k: v for k, v in channel.items() if v is not None}

    with pytest.raises(InvalidInput) as caught:
        notifier.check_channel(channel)
    assert caught.value.field == field


def test_http_is_allowed_to_loopback_only(notifier: WebPushNotifier) -> None:
    for endpoint in ("http://127.0.0.1:8080/p", "http://localhost/p", "http://[::1]:9/p"):
        assert notifier.check_channel(Browser().channel(endpoint))["endpoint"] == endpoint


@pytest.mark.parametrize("subject", ["", "admin@example.com", "http://example.com"])
def test_a_subject_push_services_refuse_is_a_setting_error(key_path: Path, subject: str) -> None:
    with pytest.raises(InvalidSetting):
        WebPushNotifier.from_key_file(key_path, subject)


def test_a_key_file_that_is_no_p256_key_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    rsa_key = tmp_path / "rsa.pem"
    rsa_key.write_bytes(
        rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    p384 = tmp_path / "p384.pem"
    p384.write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    for path in (garbage, rsa_key, p384):
        with pytest.raises(InvalidSetting):
            load_or_create_vapid_key(path)
        assert path.exists()  # never replaced by a new key


def test_an_openssl_style_ec_key_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "openssl.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,  # "BEGIN EC PRIVATE KEY"
            serialization.NoEncryption(),
        )
    )
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )

    assert WebPushNotifier.from_key_file(path, SUBJECT).public_key == b64(point)
