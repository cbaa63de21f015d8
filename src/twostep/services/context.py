"""What every use case is handed by bootstrap: storage, secrets, clock, node identity."""

from __future__ import annotations

from dataclasses import dataclass

from twostep.domain.ports import Clock, SecretBox, Storage


@dataclass(frozen=True, slots=True)
class Node:
    """The Twostep server process that decides: the audit log's server name and IP."""

    name: str
    ip: str | None


@dataclass(frozen=True, slots=True)
class Deps:
    storage: Storage
    secrets: SecretBox
    clock: Clock
    node: Node


def method_context(method_id: str) -> str:
    """Authenticated data for a method's sealed seed: binds the ciphertext to its row."""
    return f"method:{method_id}"


def gateway_context(gateway_id: str) -> str:
    """Authenticated data for a gateway's sealed credentials."""
    return f"gateway:{gateway_id}"


def device_context(device_id: str) -> str:
    """Authenticated data for a device's sealed push channel."""
    return f"device:{device_id}"
