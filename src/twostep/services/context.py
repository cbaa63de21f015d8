"""What every use case is handed by bootstrap: storage, secrets, clock, node identity."""

from __future__ import annotations

from dataclasses import dataclass, field

from twostep.domain.ports.clock import Clock
from twostep.domain.ports.requests import NoRequestIds, RequestIds
from twostep.domain.ports.secrets import SecretBox
from twostep.domain.ports.storage import Storage, Transaction
from twostep.domain.sealing import device_context, gateway_context, method_context


@dataclass(frozen=True, slots=True)
class Node:
    """The Twostep server process that decides: the audit log's server name and IP."""

    name: str
    ip: str | None


@dataclass(frozen=True, slots=True)
class Deps:
    storage: Storage[Transaction]
    secrets: SecretBox
    clock: Clock
    node: Node
    request_ids: RequestIds = field(default_factory=NoRequestIds)


__all__ = ["Deps", "Node", "device_context", "gateway_context", "method_context"]
