"""Gateways: a tenant's configured providers of texts, calls and emails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class GatewayRecord:
    id: str
    tenant_id: int
    name: str
    kind: str
    position: int
    settings: Mapping[str, object]  # without the credentials
    sealed_secrets: bytes | None  # JSON of the credentials, sealed to the gateway id
    created_at: float


@dataclass(frozen=True, slots=True)
class GatewayActivity:
    """What the audit log says of a tenant's deliveries since some time."""

    sent: Mapping[str, tuple[int, float]]  # gateway name -> (sign-ins it delivered, last at)
    failed: Sequence[tuple[float, str]]  # (at, detail) of deliveries no gateway made, newest first


class GatewayRepo(Protocol):
    def add(self, gateway: GatewayRecord) -> None: ...

    def for_tenant(self, tenant_id: int) -> Sequence[GatewayRecord]:
        """The tenant's gateways in failover order."""
        ...

    def by_id(self, gateway_id: str) -> GatewayRecord | None: ...

    def delete(self, gateway_id: str) -> None: ...

    def replace_settings(
        self, gateway_id: str, settings: Mapping[str, object], sealed_secrets: bytes | None
    ) -> None:
        """A gateway's settings and sealed credentials, replaced together."""
        ...

    def activity(self, tenant_id: int, since: float, limit: int) -> GatewayActivity:
        """The tenant's deliveries audited since ``since``: the sends by gateway, and the
        newest ``limit`` failures (the detail names each gateway tried and its error)."""
        ...
