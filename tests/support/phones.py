"""Phone-method helpers: read what the outbox gateway delivered, answer as the phone would."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from twostep.adapters.gateways.common import sign
from twostep.bootstrap import App
from twostep.domain.delivery import WebhookRequest

MOBILE = "+14155550123"  # a US number: fixed line or mobile, so it takes texts
OTHER_MOBILE = "+4915112345678"
LANDLINE = "+442079460000"  # UK fixed line: calls only
PREMIUM = "+19005551234"  # premium rate: neither


def outbox(app: App) -> list[dict[str, Any]]:
    path = Path(app.config.storage.home) / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def sent_to(app: App, reference: str) -> dict[str, Any]:
    """The last message or call of a transaction."""
    found = [r for r in outbox(app) if r.get("reference") == reference]
    assert found, f"nothing was delivered for {reference}"
    return found[-1]


def code_of(app: App, reference: str) -> str:
    match = re.search(r"\b(\d{6})\b", sent_to(app, reference)["body"])
    assert match, "no code in the message"
    return match.group(1)


def signed(app: App, data: dict[str, Any], url: str = "http://127.0.0.1/") -> WebhookRequest:
    """A webhook request as the built-in outbox gateway signs it."""
    body = json.dumps(data).encode()
    secret = app.delivered.delivery.outbox.webhook_secret
    headers = {"content-type": "application/json", "x-twostep-signature": sign(secret, body)}
    return WebhookRequest(url=url, method="POST", headers=headers, body=body)
