"""RADIUS clients: the NASes allowed to ask, with their sealed shared secrets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.entities import (
    RadiusClient,
)


class RadiusClientRepo(Protocol):
    def add(
        self, client: RadiusClient, sealed_secret: bytes, sealed_upstreams: Sequence[bytes] = ()
    ) -> None:
        """Add the client; its upstreams' sealed secrets in the order of ``upstreams``."""
        ...

    def update(self, client: RadiusClient, sealed_upstreams: Sequence[bytes] | None) -> None:
        """Write the client's options; its upstreams replaced when ``sealed_upstreams`` is
        given (one sealed secret per upstream, in order), else kept."""
        ...

    def upstream_secrets(self, client_id: str) -> Sequence[bytes]:
        """The sealed secrets of the client's upstreams, in order."""
        ...

    def list(self, tenant_id: int) -> Sequence[RadiusClient]: ...

    def by_name(self, tenant_id: int, name: str) -> RadiusClient | None: ...

    def delete(self, client_id: str) -> None:
        """Delete the client and the integration that names it."""
        ...

    def networks(self) -> Sequence[tuple[RadiusClient, str]]:
        """Every client of every tenant, oldest first, with its tenant's name."""
        ...

    def active(self) -> Sequence[tuple[RadiusClient, bytes, Sequence[bytes]]]:
        """Every client of every tenant whose integration is not revoked, with its
        sealed secret and its upstreams' (in order): what a RADIUS server loads."""
        ...
