"""FCM HTTP v1 against a local server that is both Google's OAuth token endpoint and FCM.

The token endpoint verifies the JWT assertion (RS256 with the service account's public
key, issuer, scope, audience, lifetime) before it hands out an access token; the send
endpoint takes only a token it issued and checks the message's shape, as FCM does.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from tests.support.fake_twilio import Recorded, Recorder
from twostep.adapters.gateways.push_fcm import FcmNotifier
from twostep.domain.delivery import ChannelGone, GatewayError, PushNotifier
from twostep.domain.errors import InvalidInput, InvalidSetting

PROJECT = "twostep-test-1a2b3"
EMAIL = f"twostep-push@{PROJECT}.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
DEVICE = "dQw4w9WgXcQ:APA91bH_0123456789-abcdefghijklmnopqrstuvwxyz"
PAYLOAD = b'{"type":"request"}'


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def account_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


@dataclass
class FakeGoogle:
    """Google's token endpoint and FCM's send endpoint, as one answer function."""

    url: str
    public_key: rsa.RSAPublicKey
    expires_in: int = 3600
    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    unregistered: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def __call__(self, req: Recorded) -> tuple[int, dict[str, Any]]:
        if req.method == "POST" and req.path == "/token":
            return self.token(req)
        if req.method == "POST" and req.path == f"/v1/projects/{PROJECT}/messages:send":
            return self.send(req)
        return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "no such path"}}

    def token(self, req: Recorded) -> tuple[int, dict[str, Any]]:
        form = req.form()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        header_b64, claims_b64, signature_b64 = form["assertion"].split(".")
        header, claims = json.loads(unb64(header_b64)), json.loads(unb64(claims_b64))
        try:
            self.public_key.verify(
                unb64(signature_b64),
                f"{header_b64}.{claims_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        now = time.time()
        checks = {
            "alg": header.get("alg") == "RS256",
            "iss": claims.get("iss") == EMAIL,
            "scope": claims.get("scope") == SCOPE,
            "aud": claims.get("aud") == self.token_uri,
            "iat": claims.get("iat", now + 999) <= now + 5,
            "exp": now < claims.get("exp", 0) <= claims.get("iat", 0) + 3600,
        }
        self.problems += [name for name, ok in checks.items() if not ok]
        if not all(checks.values()):
            return 400, {"error": "invalid_grant"}
        token = f"ya29.test-access-{next(self.counter)}"
        self.issued.append(token)
        return 200, {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}

    def send(self, req: Recorded) -> tuple[int, dict[str, Any]]:
        bearer = req.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.issued or bearer in self.revoked:
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        message = req.json()["message"]
        self.messages.append(message)
        if set(message) - {"token", "data", "android", "apns", "webpush", "notification"}:
            self.problems.append("message fields")
        data = message.get("data", {})
        if not all(isinstance(v, str) for v in data.values()):
            self.problems.append("data values must be strings")
        if message["token"] in self.unregistered:
            return 404, {
                "error": {
                    "code": 404,
                    "message": "Requested entity was not found.",
                    "status": "NOT_FOUND",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                            "errorCode": "UNREGISTERED",
                        }
                    ],
                }
            }
        return 200, {"name": f"projects/{PROJECT}/messages/0:{next(self.counter)}"}


@pytest.fixture
def google(recorder: Recorder, account_key: rsa.RSAPrivateKey) -> FakeGoogle:
    fake = FakeGoogle(recorder.url, account_key.public_key())
    recorder.answer = fake
    return fake


def service_account(google: FakeGoogle, key: rsa.RSAPrivateKey) -> dict[str, str]:
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem(key),
        "client_email": EMAIL,
        "client_id": "123456789012345678901",
        "token_uri": google.token_uri,
    }


def make(google: FakeGoogle, key: rsa.RSAPrivateKey, **kwargs: Any) -> FcmNotifier:
    return FcmNotifier(service_account(google, key), endpoint=google.url, **kwargs)


def test_a_token_is_fetched_once_and_each_notify_sends_a_data_message(
    recorder: Recorder, google: FakeGoogle, account_key: rsa.RSAPrivateKey
) -> None:
    notifier: PushNotifier = make(google, account_key)
    channel = notifier.check_channel({"token": DEVICE})

    notifier.notify(channel, PAYLOAD)
    notifier.notify(channel, PAYLOAD)

    assert google.problems == []
    assert len(google.issued) == 1  # cached across the two notifies
    assert [r.path for r in recorder.requests] == [
        "/token",
        f"/v1/projects/{PROJECT}/messages:send",
        f"/v1/projects/{PROJECT}/messages:send",
    ]
    assert recorder.requests[1].headers["authorization"] == f"Bearer {google.issued[0]}"
    message = google.messages[0]
    assert message["token"] == DEVICE
    assert message["data"] == {"type": "request"}
    assert message["android"]["priority"] == "high"


def test_the_assertion_names_its_key_and_is_short_lived(
    recorder: Recorder, google: FakeGoogle, account_key: rsa.RSAPrivateKey
) -> None:
    make(google, account_key).notify({"token": DEVICE}, PAYLOAD)

    header_b64, claims_b64, _ = recorder.requests[0].form()["assertion"].split(".")
    header, claims = json.loads(unb64(header_b64)), json.loads(unb64(claims_b64))
    assert header == {
        "alg": "RS256",
        "typ": "JWT",
        "kid": "0123456789abcdef0123456789abcdef01234567",
    }
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 5


def test_a_token_is_replaced_shortly_before_it_expires(
    google: FakeGoogle, account_key: rsa.RSAPrivateKey
) -> None:
    google.expires_in = 300
    now = [time.time() - 250]  # the clock moves on below; Google's must not see a future iat
    notifier = make(google, account_key, clock=lambda: now[0])

    notifier.notify({"token": DEVICE}, PAYLOAD)
    now[0] += 230  # 70 s left: still used
    notifier.notify({"token": DEVICE}, PAYLOAD)
    assert len(google.issued) == 1
    now[0] += 15  # 55 s left: replaced first
    notifier.notify({"token": DEVICE}, PAYLOAD)

    assert len(google.issued) == 2
    assert google.problems == []


def test_a_revoked_access_token_is_replaced_once(
    recorder: Recorder, google: FakeGoogle, account_key: rsa.RSAPrivateKey
) -> None:
    notifier = make(google, account_key)
    notifier.notify({"token": DEVICE}, PAYLOAD)
    google.revoked.add(google.issued[0])

    notifier.notify({"token": DEVICE}, PAYLOAD)

    assert len(google.issued) == 2
    assert len(google.messages) == 2
    assert recorder.requests[-1].headers["authorization"] == f"Bearer {google.issued[1]}"


def test_an_unregistered_device_raises_channel_gone(
    google: FakeGoogle, account_key: rsa.RSAPrivateKey
) -> None:
    google.unregistered.add(DEVICE)

    with pytest.raises(ChannelGone, match="UNREGISTERED") as caught:
        make(google, account_key).notify({"token": DEVICE}, PAYLOAD)

    assert DEVICE not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (
            400,
            {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": DEVICE}},
            "INVALID_ARGUMENT",
        ),
        (429, {"error": {"details": [{"errorCode": "QUOTA_EXCEEDED"}]}}, "QUOTA_EXCEEDED"),
        (503, {"error": {"status": "a message with spaces"}}, "503"),
    ],
)
def test_a_refusal_is_a_gateway_error_with_its_code_only(
    recorder: Recorder,
    google: FakeGoogle,
    account_key: rsa.RSAPrivateKey,
    status: int,
    body: dict[str, Any],
    shown: str,
) -> None:
    notifier = make(google, account_key)
    notifier.notify({"token": DEVICE}, PAYLOAD)  # the token is fetched
    recorder.answer = lambda _: (status, body)

    with pytest.raises(GatewayError) as caught:
        notifier.notify({"token": DEVICE}, PAYLOAD)

    message = str(caught.value)
    assert not isinstance(caught.value, ChannelGone)
    assert shown in message and str(status) in message
    assert DEVICE not in message and "spaces" not in message


def test_a_key_google_does_not_know_gets_no_token(
    google: FakeGoogle, account_key: rsa.RSAPrivateKey
) -> None:
    stranger = rsa.generate_private_key(65537, 2048)

    with pytest.raises(GatewayError, match="token endpoint answered 400 invalid_grant") as caught:
        make(google, stranger).notify({"token": DEVICE}, PAYLOAD)

    assert google.issued == [] and google.messages == []
    assert "PRIVATE" not in str(caught.value)


def test_a_slow_token_endpoint_times_out(
    recorder: Recorder, google: FakeGoogle, account_key: rsa.RSAPrivateKey
) -> None:
    recorder.delay = 5
    started = time.monotonic()

    with pytest.raises(GatewayError, match=r"no answer from the token endpoint within 0\.3 s"):
        make(google, account_key, timeout=0.3).notify({"token": DEVICE}, PAYLOAD)
    assert time.monotonic() - started < 3


def test_from_file_reads_a_service_account_json(
    tmp_path: Path, google: FakeGoogle, account_key: rsa.RSAPrivateKey
) -> None:
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(service_account(google, account_key)))

    FcmNotifier.from_file(path, endpoint=google.url).notify({"token": DEVICE}, PAYLOAD)

    assert google.messages[0]["token"] == DEVICE


@pytest.mark.parametrize(
    "change",
    [
        {"project_id": None},
        {"client_email": ""},
        {"token_uri": "http://oauth2.example.com/token"},
        {"private_key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"},
        {"private_key": pem(ec.generate_private_key(ec.SECP256R1()))},
    ],
)
def test_an_unusable_service_account_is_a_setting_error(
    google: FakeGoogle, account_key: rsa.RSAPrivateKey, change: dict[str, Any]
) -> None:
    account: dict[str, Any] = {**service_account(google, account_key), **change}

    with pytest.raises(InvalidSetting) as caught:
        FcmNotifier(account, endpoint=google.url)
    assert "BEGIN" not in str(caught.value)


def test_an_unreadable_service_account_file_is_a_setting_error(tmp_path: Path) -> None:
    missing, broken, listed = tmp_path / "missing.json", tmp_path / "x.json", tmp_path / "l.json"
    broken.write_text("{not json")
    listed.write_text("[]")
    for path in (missing, broken, listed):
        with pytest.raises(InvalidSetting):
            FcmNotifier.from_file(path)


def test_an_http_endpoint_off_loopback_is_a_setting_error(
    google: FakeGoogle, account_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(InvalidSetting, match="fcm_endpoint"):
        FcmNotifier(service_account(google, account_key), endpoint="http://fcm.example.com")


@pytest.mark.parametrize(
    "channel",
    [
        {},
        {"token": ""},
        {"token": 7},
        {"token": "has space"},
        {"token": "x" * 5000},
        {"token": DEVICE, "endpoint": "https://x"},
    ],
)
def test_check_channel_refuses_a_bad_token(
    google: FakeGoogle, account_key: rsa.RSAPrivateKey, channel: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput):
        make(google, account_key).check_channel(channel)
