"""The development gateway: texts and calls go to a JSON-lines file, not to a phone.

``make run`` works with no provider account: the file holds each message with its code
(so it is created 0600), while the log line says only where it went. A developer (or
a test) plays the phone by posting signed JSON to the inbound webhook:
``{"from": "+1…", "text": "…"}`` for a reply, ``{"reference": "…", "digits": "…"}``
for the keys pressed in a call.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from twostep.adapters.gateways.common import (
    Credential,
    GatewaySettings,
    GatewaySpec,
    Text,
    mask_destination,
    optional_text,
    required_text,
    revealed,
    sender_number,
    verify_signature,
    webhook_fields,
)
from twostep.domain.delivery import (
    CallEvent,
    Capability,
    Channel,
    Gateway,
    GatewayError,
    InboundText,
    Receipt,
    TextMessage,
    VoiceCall,
    WebhookAnswer,
    WebhookRequest,
)
from twostep.domain.errors import InvalidInput

log = logging.getLogger(__name__)

_DIGITS = frozenset("0123456789*")


class OutboxSettings(GatewaySettings):
    """The development outbox: texts, emails and calls written to a file, not sent."""

    path: Text = Field(
        description="the JSON-lines file, a .jsonl file under TWOSTEP_HOME (relative to it, "
        "or absolute)"
    )
    webhook_secret: Credential | None = Field(
        None, description="the key of X-Twostep-Signature on replies and key presses"
    )


class OutboxGateway:
    """Every capability: texts and emails (TextSender), calls (CallPlacer), replies
    (InboundTexts) and key presses (CallEvents), all to and from a file."""

    channels = frozenset({Channel.SMS, Channel.EMAIL})

    def __init__(self, name: str, path: Path, webhook_secret: str | None = None) -> None:
        self.name = name
        self.path = path
        self._secret = webhook_secret
        self._lock = threading.Lock()  # one line per write, even from several threads

    def send_text(self, message: TextMessage) -> Receipt:
        return self._write(
            message.channel,
            message.to,
            {
                "to": message.to,
                "sender": message.sender,
                "subject": message.subject,
                "body": message.body,
                "reference": message.reference,
            },
        )

    def place_call(self, call: VoiceCall) -> Receipt:
        return self._write(
            Channel.VOICE,
            call.to,
            {
                "to": call.to,
                "caller_id": call.caller_id,
                "script": call.script,
                "language": call.language,
                "reference": call.reference,
                "max_digits": call.max_digits,
                "callback_url": call.callback_url,
                "status_url": call.status_url,
                "audio_url": call.audio_url,
                "extension": call.extension,
            },
        )

    def inbound_text(self, request: WebhookRequest) -> InboundText:
        verify_signature(self._secret, request)
        data = webhook_fields(request)
        return InboundText(
            sender=sender_number(required_text(data, "from")), body=required_text(data, "text")
        )

    def call_event(self, request: WebhookRequest) -> CallEvent:
        verify_signature(self._secret, request)
        data = webhook_fields(request)
        reference = required_text(data, "reference")
        digits = optional_text(data, "digits")
        if digits is not None:
            digits = digits.removesuffix("#")  # as if the provider had stripped the finish key
            if not set(digits) <= _DIGITS:
                raise InvalidInput("digits may hold only 0-9 and *", field="digits")
        return CallEvent(reference=reference, digits=digits, status=optional_text(data, "status"))

    def call_answer(self, text: str, language: str, audio_url: str | None = None) -> WebhookAnswer:
        """The words as text; a recording's URL on a line of its own after them."""
        played = f"\n{audio_url}" if audio_url else ""
        return WebhookAnswer("text/plain; charset=utf-8", (text + played).encode())

    def call_again(self, call: VoiceCall) -> WebhookAnswer:
        return self.call_answer(call.script, call.language, call.audio_url)

    def _write(self, channel: Channel, to: str, fields: dict[str, Any]) -> Receipt:
        provider_id = "outbox-" + secrets.token_hex(8)
        record = {
            "id": provider_id,
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "gateway": self.name,
            "channel": str(channel),
            **fields,
        }
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # O_APPEND and one write per line keep lines whole across processes too.
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise GatewayError(
                f"outbox {self.name}: cannot write {self.path} ({exc.strerror})"
            ) from exc
        log.info("outbox: %s to %s written to %s", channel, mask_destination(to), self.path)
        return Receipt(gateway=self.name, provider_id=provider_id)


def _build(name: str, settings: OutboxSettings) -> Gateway:
    outbox = OutboxGateway(name, Path(settings.path), revealed(settings.webhook_secret))
    return Gateway(name, texts=outbox, calls=outbox, inbound_texts=outbox, call_events=outbox)


SPEC = GatewaySpec(kind="outbox", settings=OutboxSettings, can=frozenset(Capability), build=_build)
