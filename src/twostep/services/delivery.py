"""Delivering texts and calls through a tenant's gateways, in failover order.

A tenant with no gateway configured delivers to the development outbox (a file), so a
fresh install works end to end; the operator adds real gateways before going live.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twostep.domain.delivery import (
    Channel,
    Gateway,
    GatewayError,
    GatewayFactory,
    Receipt,
    TextMessage,
    VoiceCall,
)
from twostep.domain.ports import GatewayRecord
from twostep.services.context import Deps, gateway_context

log = logging.getLogger("twostep.delivery")

OUTBOX_ID = "outbox"  # the built-in gateway of tenants that have none
RECORDS_TTL = 5.0  # seconds a tenant's gateway list is reused


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
    def __init__(self, deps: Deps, factory: GatewayFactory, outbox: OutboxDefaults) -> None:
        self.deps = deps
        self.factory = factory
        self.outbox = outbox
        self._built: dict[tuple[str, bytes | None, str], Gateway] = {}
        self._warned = False
        self._by_tenant: dict[int, tuple[float, Sequence[GatewayRecord]]] = {}

    def send_text(self, tenant_id: int, message: TextMessage) -> Receipt:
        return self._each(tenant_id, message.channel, lambda _id, gw: gw.send_text(message))

    def place_call(self, tenant_id: int, call_for: Callable[[str], VoiceCall]) -> Receipt:
        """``call_for(gateway_id)`` builds the call with that gateway's callback URLs."""
        return self._each(tenant_id, Channel.VOICE, lambda gid, gw: gw.place_call(call_for(gid)))

    def gateway(self, gateway_id: str) -> tuple[int | None, Gateway] | None:
        """The gateway behind a webhook URL, with its tenant (None for the outbox)."""
        if gateway_id == OUTBOX_ID:
            return None, self._outbox()
        with self.deps.storage.transaction() as tx:
            record = tx.gateways.by_id(gateway_id)
        if record is None:
            return None
        return record.tenant_id, self._build(record)

    # -- internals ---------------------------------------------------------------

    def _each(
        self, tenant_id: int, channel: Channel, send: Callable[[str, Gateway], Receipt]
    ) -> Receipt:
        records = self._records(tenant_id)
        candidates: list[tuple[str, Gateway]] = []
        if not records:
            if not self._warned:  # once per process: a live tenant must not rely on it
                self._warned = True
                log.warning(
                    "a tenant without gateways: texts and calls go to the development outbox "
                    "%s; add a gateway before going live",
                    self.outbox.path,
                )
            candidates.append((OUTBOX_ID, self._outbox()))
        for record in records:
            gateway = self._build(record)
            if channel in gateway.channels:
                candidates.append((record.id, gateway))
        if not candidates:
            raise DeliveryFailed(f"no gateway of this tenant delivers {channel.value}")
        failures: list[str] = []
        for gateway_id, gateway in candidates:
            try:
                return send(gateway_id, gateway)
            except GatewayError as exc:
                # The next gateway gets its turn; the reasons go into the audit event.
                log.warning("gateway %s failed to deliver %s: %s", gateway.name, channel.value, exc)
                failures.append(f"{gateway.name}: {exc}")
        raise DeliveryFailed("; ".join(failures)[:255])

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
            built = self._built[key] = self.factory.build(kind, name, settings)
        return built
