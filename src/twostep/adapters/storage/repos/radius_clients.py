"""RADIUS clients: a network, a sealed shared secret and a sign-in mode per NAS."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from twostep.adapters.storage.tables import integrations, radius_clients, tenants
from twostep.domain.entities import RadiusClient, RadiusMode

_c = radius_clients.c


def _client(row: Any) -> RadiusClient:
    return RadiusClient(
        id=row.id,
        tenant_id=row.tenant_id,
        integration_id=row.integration_id,
        name=row.name,
        network=row.network,
        mode=RadiusMode(row.mode),
        require_message_authenticator=bool(row.require_message_authenticator),
        limit_proxy_state=bool(row.limit_proxy_state),
        push_wait_seconds=row.push_wait_seconds,
        created_at=row.created_at,
    )


class SqlRadiusClientRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, client: RadiusClient, sealed_secret: bytes) -> None:
        self.conn.execute(
            insert(radius_clients).values(
                id=client.id,
                tenant_id=client.tenant_id,
                integration_id=client.integration_id,
                name=client.name,
                network=client.network,
                secret=sealed_secret,
                mode=client.mode.value,
                require_message_authenticator=client.require_message_authenticator,
                limit_proxy_state=client.limit_proxy_state,
                push_wait_seconds=client.push_wait_seconds,
                created_at=client.created_at,
            )
        )

    def list(self, tenant_id: int) -> Sequence[RadiusClient]:
        rows = self.conn.execute(
            select(radius_clients).where(_c.tenant_id == tenant_id).order_by(_c.name)
        )
        return [_client(r) for r in rows]

    def by_name(self, tenant_id: int, name: str) -> RadiusClient | None:
        row = self.conn.execute(
            select(radius_clients).where(_c.tenant_id == tenant_id, _c.name == name)
        ).first()
        return None if row is None else _client(row)

    def delete(self, client_id: str) -> None:
        integration_id = self.conn.execute(
            select(_c.integration_id).where(_c.id == client_id)
        ).scalar_one_or_none()
        self.conn.execute(delete(radius_clients).where(_c.id == client_id))
        if integration_id is not None:
            self.conn.execute(delete(integrations).where(integrations.c.id == integration_id))

    def networks(self) -> Sequence[tuple[RadiusClient, str]]:
        """Every client of every tenant with its tenant's name (for the overlap check)."""
        rows = self.conn.execute(
            select(radius_clients, tenants.c.name.label("tenant_name"))
            .join(tenants, tenants.c.id == _c.tenant_id)
            .order_by(_c.created_at, _c.id)
        )
        return [(_client(r), str(r.tenant_name)) for r in rows]

    def active(self) -> Sequence[tuple[RadiusClient, bytes]]:
        rows = self.conn.execute(
            select(radius_clients)
            .join(integrations, integrations.c.id == _c.integration_id)
            .where(integrations.c.revoked_at.is_(None))
            .order_by(_c.id)
        )
        return [(_client(r), bytes(r.secret)) for r in rows]
