"""RADIUS clients: the NASes allowed to ask, with their sealed shared secrets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.entities import (
    RadiusClient,
)


class RadiusClientRepo(Protocol):
    def add(self, client: RadiusClient, sealed_secret: bytes) -> None: ...

    def list(self, tenant_id: int) -> Sequence[RadiusClient]: ...

    def by_name(self, tenant_id: int, name: str) -> RadiusClient | None: ...

    def delete(self, client_id: str) -> None:
        """Delete the client and the integration that names it."""
        ...

    def networks(self) -> Sequence[tuple[RadiusClient, str]]:
        """Every client of every tenant, oldest first, with its tenant's name."""
        ...

    def active(self) -> Sequence[tuple[RadiusClient, bytes]]:
        """Every client of every tenant whose integration is not revoked, with its
        sealed secret: what a RADIUS server loads."""
        ...
