"""Credentials: integrations' keys and admins' API keys (stored as keyed hashes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.entities import (
    AdminKey,
    Integration,
    Role,
)


class IntegrationRepo(Protocol):
    def add(
        self,
        tenant_id: int,
        name: str,
        key_id: str,
        key_hash: bytes,
        now: float,
        *,
        legacy: bool = False,
    ) -> Integration: ...

    def set_legacy(self, integration_id: int, legacy: bool) -> None: ...

    def set_trusted_client_addresses(self, integration_id: int, trusted: bool) -> None:
        """Whether the client addresses it sends may meet the tenant's trusted networks."""
        ...

    def by_key_id(self, key_id: str) -> tuple[Integration, bytes] | None: ...

    def list(self, tenant_id: int) -> Sequence[Integration]: ...

    def by_name(self, tenant_id: int, name: str) -> Integration | None: ...

    def revoke(self, integration_id: int, now: float) -> None: ...


class AdminKeyRepo(Protocol):
    def add(
        self,
        name: str,
        role: Role,
        tenant_id: int | None,
        key_id: str,
        key_hash: bytes,
        now: float,
    ) -> AdminKey: ...

    def by_key_id(self, key_id: str) -> tuple[AdminKey, bytes] | None: ...

    def list(self) -> Sequence[AdminKey]: ...

    def revoke(self, key_id: str, now: float) -> bool: ...

    def count_active(self) -> int: ...
