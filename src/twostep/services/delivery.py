"""Delivering texts, emails and calls through a tenant's gateways, in failover order, and
finding the gateway behind a webhook.

Each message goes only to the gateways that can carry it: a text to those that send SMS,
an email to those that send EMAIL, a call to those that place calls. A tenant with no
gateway configured delivers to the development outbox (a file), so a fresh install works
end to end; the operator adds real gateways before going live.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from twostep.domain.delivery import (
    CallEvents,
    Channel,
    Gateway,
    GatewayBuilder,
    GatewayError,
    InboundTexts,
    Receipt,
    TextMessage,
    TextSender,
    VoiceCall,
    WebhookRefused,
)
from twostep.domain.errors import GatewayNotFound, InvalidSetting
from twostep.domain.ports.gateways import GatewayRecord
from twostep.domain.ports.metrics import NO_METRICS, Metrics
from twostep.services.context import Deps, gateway_context

log = logging.getLogger("twostep.delivery")

OUTBOX_ID = "outbox"  # the built-in gateway of tenants that have none
RECORDS_TTL = 5.0  # seconds a tenant's gateway list is reused

T = TypeVar("T")


class DeliveryFailed(Exception):
    """Every gateway failed; ``detail`` says why, gateway by gateway (safe to audit)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class OutboxDefaults:
    """Where the built-in outbox writes, and the secret its webhooks are signed with."""

    path: str
    webhook_secret: str


class Delivery:
    def __init__(
        self,
        deps: Deps,
        builder: GatewayBuilder,
        outbox: OutboxDefaults,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.deps = deps
        self.metrics = metrics  # every attempt, by gateway kind: taken or failed
        self.builder = builder
        self.outbox = outbox
        self._built: dict[tuple[str, bytes | None, str], Gateway] = {}
        self._warned = False
        self._by_tenant: dict[int, tuple[float, Sequence[GatewayRecord]]] = {}

    def send_text(self, tenant_id: int, message: TextMessage) -> Receipt:
        """A text (``Channel.SMS``) or an email (``Channel.EMAIL``), through the first of
        the tenant's gateways that sends that channel and accepts it."""

        def texts(gateway: Gateway) -> TextSender | None:
            sender = gateway.texts
            return sender if sender and message.channel in sender.channels else None

        return self._first(
            tenant_id, message.channel, texts, lambda _id, sender: sender.send_text(message)
        )

    def place_call(self, tenant_id: int, call_for: Callable[[str], VoiceCall]) -> Receipt:
        """``call_for(gateway_id)`` builds the call with that gateway's callback URLs."""
        return self._first(
            tenant_id,
            Channel.VOICE,
            lambda gateway: gateway.calls,
            lambda gateway_id, calls: calls.place_call(call_for(gateway_id)),
        )

    def inbound_texts(self, gateway_id: str) -> tuple[int | None, InboundTexts]:
        """The gateway behind an inbound-text webhook, with its tenant (None for the
        outbox). Raises GatewayNotFound, or WebhookRefused for a kind that takes none."""
        tenant_id, gateway = self._gateway(gateway_id)
        if gateway.inbound_texts is None:
            raise WebhookRefused(f"gateway {gateway.name} takes no inbound texts")
        return tenant_id, gateway.inbound_texts

    def call_events(self, gateway_id: str) -> tuple[int | None, CallEvents]:
        """The gateway behind a call webhook, with its tenant (None for the outbox).
        Raises GatewayNotFound, or WebhookRefused for a kind that places no calls."""
        tenant_id, gateway = self._gateway(gateway_id)
        if gateway.call_events is None:
            raise WebhookRefused(f"gateway {gateway.name} places no calls: it takes no call events")
        return tenant_id, gateway.call_events

    # -- internals ---------------------------------------------------------------

    def _gateway(self, gateway_id: str) -> tuple[int | None, Gateway]:
        gateway_id = gateway_id[:64]
        if gateway_id == OUTBOX_ID:
            return None, self._outbox()
        with self.deps.storage.transaction() as tx:
            record = tx.gateways.by_id(gateway_id)
        if record is None:
            raise GatewayNotFound(f"no gateway {gateway_id!r}")
        return record.tenant_id, self._build(record)

    def _first(
        self,
        tenant_id: int,
        channel: Channel,
        able: Callable[[Gateway], T | None],
        send: Callable[[str, T], Receipt],
    ) -> Receipt:
        """Try the tenant's gateways that are ``able`` to carry ``channel``, in order."""
        failures: list[str] = []
        tried = False
        for gateway_id, name, kind, gateway in self._gateways(tenant_id, failures):
            part = able(gateway)
            if part is None:
                continue
            tried = True
            try:
                receipt = send(gateway_id, part)
            except GatewayError as exc:
                self.metrics.delivered(kind, channel.value, ok=False)
                # The next gateway gets its turn; the reasons go into the audit event.
                log.warning("gateway %s failed to deliver %s: %s", name, channel.value, exc)
                failures.append(f"{name}: {exc}")
            else:
                self.metrics.delivered(kind, channel.value, ok=True)
                return receipt
        if not tried:
            failures.insert(0, f"no gateway of this tenant delivers {channel.value}")
        raise DeliveryFailed("; ".join(failures)[:255])

    def _gateways(self, tenant_id: int, failures: list[str]) -> list[tuple[str, str, str, Gateway]]:
        """The tenant's gateways in failover order: (id, name, kind, gateway). One whose stored
        settings no longer load is left out, and said so in ``failures``."""
        records = self._records(tenant_id)
        if not records:
            if not self._warned:  # once per process: a live tenant must not rely on it
                self._warned = True
                log.warning(
                    "a tenant without gateways: texts and calls go to the development outbox "
                    "%s; add a gateway before going live",
                    self.outbox.path,
                )
            return [(OUTBOX_ID, OUTBOX_ID, "outbox", self._outbox())]
        gateways = []
        for record in records:
            try:
                gateways.append((record.id, record.name, record.kind, self._build(record)))
            except InvalidSetting as exc:
                log.warning("gateway %s cannot be built: %s", record.name, exc.message)
                failures.append(f"{record.name}: {exc.message}")
        return gateways

    def _records(self, tenant_id: int) -> Sequence[GatewayRecord]:
        """The tenant's gateways, read at most every RECORDS_TTL seconds: a change made on
        any node reaches every node within that time, and a send costs no extra read."""
        now = time.monotonic()
        cached = self._by_tenant.get(tenant_id)
        if cached is not None and now - cached[0] < RECORDS_TTL:
            return cached[1]
        with self.deps.storage.transaction() as tx:
            records = tx.gateways.for_tenant(tenant_id)
        self._by_tenant[tenant_id] = (now, records)
        return records

    def _outbox(self) -> Gateway:
        settings = {"path": self.outbox.path, "webhook_secret": self.outbox.webhook_secret}
        return self._cached(OUTBOX_ID, None, "outbox", "outbox", settings, "")

    def _build(self, record: GatewayRecord) -> Gateway:
        settings: dict[str, Any] = dict(record.settings)
        blob = record.sealed_secrets
        shape = json.dumps(settings, sort_keys=True)
        key = (record.id, blob, shape)
        built = self._built.get(key)
        if built is not None:
            return built
        if blob is not None:
            opened = self.deps.secrets.open(blob, gateway_context(record.id))
            settings.update(json.loads(opened))
        return self._cached(record.id, blob, record.kind, record.name, settings, shape)

    def _cached(
        self,
        gateway_id: str,
        blob: bytes | None,
        kind: str,
        name: str,
        settings: Mapping[str, Any],
        shape: str,
    ) -> Gateway:
        key = (gateway_id, blob, shape)
        built = self._built.get(key)
        if built is None:
            if len(self._built) > 256:  # settings changed often: start afresh
                self._built.clear()
            built = self._built[key] = self.builder.build(kind, name, settings)
        return built
