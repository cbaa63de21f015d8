"""Fraud alerts reach the tenant's webhook as JSON, without holding up the caller."""

from __future__ import annotations

import time

from tests.support.fake_twilio import serving
from twostep.adapters.alerts import WebhookAlerts


def test_an_alert_is_posted_as_json() -> None:
    with serving() as receiver:
        started = time.monotonic()
        WebhookAlerts().send(f"{receiver.url}/alerts", {"alert": "fraud_reported", "user": "alice"})
        assert time.monotonic() - started < 0.5  # the post happens in the background
        for _ in range(50):  # bounded: up to 5 s
            if receiver.requests:
                break
            time.sleep(0.1)
        [posted] = receiver.requests
        assert posted.path == "/alerts"
        assert posted.json() == {"alert": "fraud_reported", "user": "alice"}


def test_an_unreachable_webhook_is_only_logged() -> None:
    WebhookAlerts()._post("http://127.0.0.1:9/alerts", {"alert": "fraud_reported"})
