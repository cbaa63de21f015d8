"""RADIUS clients: a network, a sealed shared secret and a sign-in mode per NAS, and the
upstream RADIUS servers (sealed secrets too) that may check its users' primary passwords."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from twostep.adapters.storage.tables import integrations, radius_clients, radius_upstreams, tenants
from twostep.domain.entities import RadiusClient, RadiusMode, RadiusPrimary, RadiusUpstream

_c = radius_clients.c
_u = radius_upstreams.c


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
        require_user_match=bool(row.require_user_match),
        oath_fallback=bool(row.oath_fallback),
        primary=RadiusPrimary(row.primary_auth),
    )


def _options(client: RadiusClient) -> dict[str, object]:
    return {
        "mode": client.mode.value,
        "require_message_authenticator": client.require_message_authenticator,
        "limit_proxy_state": client.limit_proxy_state,
        "push_wait_seconds": client.push_wait_seconds,
        "require_user_match": client.require_user_match,
        "oath_fallback": client.oath_fallback,
        "primary_auth": client.primary.value,
    }


class SqlRadiusClientRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, client: RadiusClient, sealed_secret: bytes, sealed_upstreams: Sequence[bytes] = ()
    ) -> None:
        self.conn.execute(
            insert(radius_clients).values(
                id=client.id,
                tenant_id=client.tenant_id,
                integration_id=client.integration_id,
                name=client.name,
                network=client.network,
                secret=sealed_secret,
                created_at=client.created_at,
                **_options(client),
            )
        )
        self._put_upstreams(client, sealed_upstreams)

    def update(self, client: RadiusClient, sealed_upstreams: Sequence[bytes] | None) -> None:
        self.conn.execute(
            update(radius_clients).where(_c.id == client.id).values(**_options(client))
        )
        if sealed_upstreams is not None:
            self.conn.execute(delete(radius_upstreams).where(_u.client_id == client.id))
            self._put_upstreams(client, sealed_upstreams)

    def _put_upstreams(self, client: RadiusClient, sealed: Sequence[bytes]) -> None:
        assert len(sealed) == len(client.upstreams)
        rows = [
            {
                "client_id": client.id,
                "position": position,
                "address": upstream.address,
                "port": upstream.port,
                "timeout": upstream.timeout,
                "secret": secret,
            }
            for position, (upstream, secret) in enumerate(
                zip(client.upstreams, sealed, strict=True)
            )
        ]
        if rows:
            self.conn.execute(insert(radius_upstreams), rows)

    def _with_upstreams(self, clients: Iterable[RadiusClient]) -> list[RadiusClient]:
        found = list(clients)
        ids = [c.id for c in found if c.primary is RadiusPrimary.RADIUS]
        if not ids:
            return found
        by_client = self._upstream_rows(ids)
        return [replace(c, upstreams=tuple(u for u, _s in by_client.get(c.id, ()))) for c in found]

    def _upstream_rows(self, ids: Sequence[str]) -> dict[str, list[tuple[RadiusUpstream, bytes]]]:
        by_client: dict[str, list[tuple[RadiusUpstream, bytes]]] = defaultdict(list)
        rows = self.conn.execute(
            select(radius_upstreams)
            .where(_u.client_id.in_(ids))
            .order_by(_u.client_id, _u.position)
        )
        for r in rows:
            upstream = RadiusUpstream(address=r.address, port=r.port, timeout=r.timeout)
            by_client[r.client_id].append((upstream, bytes(r.secret)))
        return by_client

    def upstream_secrets(self, client_id: str) -> Sequence[bytes]:
        return [secret for _u, secret in self._upstream_rows([client_id]).get(client_id, ())]

    def list(self, tenant_id: int) -> Sequence[RadiusClient]:
        rows = self.conn.execute(
            select(radius_clients).where(_c.tenant_id == tenant_id).order_by(_c.name)
        )
        return self._with_upstreams(_client(r) for r in rows)

    def by_name(self, tenant_id: int, name: str) -> RadiusClient | None:
        row = self.conn.execute(
            select(radius_clients).where(_c.tenant_id == tenant_id, _c.name == name)
        ).first()
        return None if row is None else self._with_upstreams([_client(row)])[0]

    def delete(self, client_id: str) -> None:
        integration_id = self.conn.execute(
            select(_c.integration_id).where(_c.id == client_id)
        ).scalar_one_or_none()
        # Explicitly: SQLite enforces the cascade only with its foreign keys on.
        self.conn.execute(delete(radius_upstreams).where(_u.client_id == client_id))
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

    def active(self) -> Sequence[tuple[RadiusClient, bytes, Sequence[bytes]]]:
        rows = list(
            self.conn.execute(
                select(radius_clients)
                .join(integrations, integrations.c.id == _c.integration_id)
                .where(integrations.c.revoked_at.is_(None))
                .order_by(_c.id)
            )
        )
        ids = [r.id for r in rows if r.primary_auth == RadiusPrimary.RADIUS.value]
        by_client = self._upstream_rows(ids) if ids else {}
        found: list[tuple[RadiusClient, bytes, Sequence[bytes]]] = []
        for r in rows:
            pairs = by_client.get(r.id, [])
            client = replace(_client(r), upstreams=tuple(u for u, _s in pairs))
            found.append((client, bytes(r.secret), [s for _u, s in pairs]))
        return found
