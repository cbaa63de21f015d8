"""The push registry: pull is always there, the configured notifiers are built from plain
values, and each push goes to its kind's notifier (a real one, to a loopback server)."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.fake_twilio import Recorder
from twostep.adapters.gateways.push_fcm import FcmNotifier
from twostep.adapters.gateways.push_ntfy import NtfyNotifier
from twostep.adapters.gateways.push_registry import (
    ChannelGone,
    PushRegistry,
    notifiers_from_config,
)
from twostep.adapters.gateways.push_webpush import WebPushNotifier, vapid_public_key
from twostep.domain.delivery import GatewayError
from twostep.domain.errors import InvalidInput, InvalidSetting

PAYLOAD = b'{"type":"request"}'
SUBJECT = "mailto:admin@example.com"


def test_pull_is_always_known_and_needs_nothing() -> None:
    registry = PushRegistry([])

    assert registry.kinds() == frozenset({"pull"})
    assert registry.check_channel("pull", {}) == {}
    assert registry.check_channel("pull", {"kind": "pull"}) == {}
    registry.notify("pull", {}, PAYLOAD)  # nothing to send: the device long-polls


def test_pull_takes_no_channel_fields() -> None:
    with pytest.raises(InvalidInput):
        PushRegistry([]).check_channel("pull", {"url": "https://ntfy.sh/t"})


def test_an_unknown_kind_is_refused_at_activation_and_fails_at_notify() -> None:
    registry = PushRegistry([NtfyNotifier()])

    with pytest.raises(InvalidInput, match="ntfy, pull") as caught:
        registry.check_channel("fcm", {"token": "abc"})
    assert caught.value.field == "push.kind"
    with pytest.raises(GatewayError, match="not configured"):
        registry.notify("fcm", {"token": "abc"}, PAYLOAD)


def test_a_kind_configured_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        PushRegistry([NtfyNotifier(), NtfyNotifier()])


def test_checks_and_pushes_go_to_the_kinds_notifier(recorder: Recorder) -> None:
    registry = PushRegistry([NtfyNotifier()])
    channel = registry.check_channel("ntfy", {"kind": "ntfy", "url": f"{recorder.url}/topic"})

    registry.notify("ntfy", channel, PAYLOAD)

    assert channel == {"url": f"{recorder.url}/topic"}
    assert recorder.requests[0].body == PAYLOAD


def test_failures_are_logged_with_the_host_only(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    registry = PushRegistry([NtfyNotifier()])
    caplog.set_level(logging.DEBUG, logger="twostep.adapters.gateways.push_registry")

    recorder.answer = lambda _: (200, {})
    registry.notify("ntfy", {"url": f"{recorder.url}/secret-topic-1"}, PAYLOAD)
    recorder.answer = lambda _: (410, {})
    with pytest.raises(ChannelGone):
        registry.notify("ntfy", {"url": f"{recorder.url}/secret-topic-2"}, PAYLOAD)
    recorder.answer = lambda _: (502, {})
    with pytest.raises(GatewayError):
        registry.notify("ntfy", {"url": f"{recorder.url}/secret-topic-3"}, PAYLOAD)

    levels = [r.levelno for r in caplog.records]
    assert levels == [logging.DEBUG, logging.INFO, logging.WARNING]
    assert all("127.0.0.1" in r.getMessage() for r in caplog.records)
    assert not any("secret-topic" in r.getMessage() for r in caplog.records)


def test_notifiers_from_config_builds_what_is_configured(
    tmp_path: Path, recorder: Recorder
) -> None:
    key_path = tmp_path / "push" / "vapid.pem"
    account = tmp_path / "fcm.json"
    key = rsa.generate_private_key(65537, 2048)
    account.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p1",
                "private_key": key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode(),
                "client_email": "push@p1.iam.gserviceaccount.com",
                "token_uri": f"{recorder.url}/token",
            }
        )
    )

    notifiers = notifiers_from_config(
        key_path,
        SUBJECT,
        ntfy_server="https://ntfy.example.net",
        ntfy_token="tk_secret",
        fcm_service_account_path=account,
        fcm_endpoint=recorder.url,
        timeout=2,
    )

    assert [type(n) for n in notifiers] == [WebPushNotifier, NtfyNotifier, FcmNotifier]
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    webpush = notifiers[0]
    assert isinstance(webpush, WebPushNotifier)
    assert webpush.public_key == vapid_public_key(key_path)
    assert PushRegistry(notifiers).kinds() == {"pull", "webpush", "ntfy", "fcm"}


def test_notifiers_from_config_leaves_out_what_is_not() -> None:
    assert notifiers_from_config(None, ntfy=False) == []
    (only,) = notifiers_from_config(None)
    assert only.kind == "ntfy"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"vapid_subject": None},
        {"vapid_subject": "admin"},
        {"ntfy_token": "tk_secret"},
        {"fcm_service_account_path": Path("/nonexistent/fcm.json")},
    ],
)
def test_notifiers_from_config_refuses_bad_values(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    settings: dict[str, Any] = {"vapid_subject": SUBJECT, **kwargs}
    with pytest.raises(InvalidSetting):
        notifiers_from_config(tmp_path / "vapid.pem", **settings)
