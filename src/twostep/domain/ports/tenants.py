"""Tenants and their settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.entities import (
    Tenant,
)
from twostep.domain.settings import TenantSettings


class TenantRepo(Protocol):
    def add(self, name: str, settings: TenantSettings, now: float) -> Tenant: ...

    def by_name(self, name: str) -> Tenant | None: ...

    def by_id(self, tenant_id: int) -> Tenant | None: ...

    def all(self) -> Sequence[Tenant]: ...

    def save_settings(self, tenant_id: int, settings: TenantSettings) -> None: ...
