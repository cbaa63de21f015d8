"""Devices: activated authenticator apps, and their single-use activation codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from twostep.domain.entities import (
    Activation,
    Device,
)


@dataclass(frozen=True, slots=True)
class NewDevice:
    id: str
    tenant_id: int
    user_id: int
    name: str
    platform: str | None
    key_type: str
    public_key: bytes
    push_kind: str
    sealed_channel: bytes | None  # the push channel's JSON, sealed to the device id


class DeviceRepo(Protocol):
    def add(self, device: NewDevice, now: float) -> Device: ...

    def by_id(self, device_id: str) -> Device | None: ...

    def for_user(self, user_id: int) -> Sequence[Device]: ...

    def sealed_channel(self, device_id: str) -> bytes | None: ...

    def rename(self, device_id: str, name: str) -> None: ...

    def revoke(self, device_id: str, now: float, reason: str) -> bool:
        """Active -> revoked; False if it was not active."""
        ...

    def seen(self, device_id: str, now: float) -> None: ...

    def set_push(self, device_id: str, kind: str, sealed_channel: bytes | None) -> None:
        """A new push channel (an app's rotated FCM token, a new Web Push subscription)."""
        ...


class ActivationRepo(Protocol):
    def add(self, activation: Activation, code_hash: bytes) -> None: ...

    def claim(self, code_hash: bytes, now: float) -> Activation | None:
        """Spend an unexpired, unused activation (conditional: single use across nodes)."""
        ...

    def cancel_for_user(self, user_id: int, now: float) -> int:
        """Expire the user's unused activations now; how many there were."""
        ...
