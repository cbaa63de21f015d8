"""Integration keys and admin API keys: only their hashes are stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from twostep.adapters.storage.prepared import Prepared, row_type
from twostep.adapters.storage.tables import admin_keys, integrations, tenants
from twostep.domain.entities import AdminKey, Integration, Role


def integration_from_row(row: Any) -> Integration:
    return Integration(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        key_id=row.key_id,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        legacy=bool(row.legacy),
        pending_since=row.pending_since,
        trusted_client_addresses=bool(row.trusted_client_addresses),
    )


def _admin_key(row: Any) -> AdminKey:
    return AdminKey(
        id=row.id,
        key_id=row.key_id,
        name=row.name,
        role=Role(row.role),
        tenant_id=row.tenant_id,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        tenant=row.tenant,
    )


# Admin keys with their tenant's name (null for global admins).
_ADMIN_KEYS = select(admin_keys, tenants.c.name.label("tenant")).outerjoin(
    tenants, tenants.c.id == admin_keys.c.tenant_id
)


_INTEGRATION_BY_KEY = Prepared(
    select(integrations).where(integrations.c.key_id == bindparam("b_key"))
)
_INTEGRATION_COLUMNS = [c.name for c in integrations.c]
_IntegrationRow = row_type("_IntegrationRow", _INTEGRATION_COLUMNS)


class SqlIntegrationRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        tenant_id: int,
        name: str,
        key_id: str,
        key_hash: bytes,
        now: float,
        *,
        legacy: bool = False,
    ) -> Integration:
        new_id = self.conn.execute(
            insert(integrations)
            .values(
                tenant_id=tenant_id,
                name=name,
                key_id=key_id,
                key_hash=key_hash,
                created_at=now,
                legacy=legacy,
            )
            .returning(integrations.c.id)
        ).scalar_one()
        return Integration(
            id=new_id, tenant_id=tenant_id, name=name, key_id=key_id, created_at=now, legacy=legacy
        )

    def set_legacy(self, integration_id: int, legacy: bool) -> None:
        self.conn.execute(
            update(integrations).where(integrations.c.id == integration_id).values(legacy=legacy)
        )

    def set_trusted_client_addresses(self, integration_id: int, trusted: bool) -> None:
        self.conn.execute(
            update(integrations)
            .where(integrations.c.id == integration_id)
            .values(trusted_client_addresses=trusted)
        )

    def by_key_id(self, key_id: str) -> tuple[Integration, bytes] | None:
        rows = _INTEGRATION_BY_KEY.rows(self.conn, {"b_key": key_id})
        if not rows:
            return None
        row = _IntegrationRow._make(rows[0])
        return integration_from_row(row), bytes(row.key_hash)

    def list(self, tenant_id: int) -> Sequence[Integration]:
        rows = self.conn.execute(
            select(integrations)
            .where(integrations.c.tenant_id == tenant_id)
            .order_by(integrations.c.name)
        )
        return [integration_from_row(r) for r in rows]

    def by_name(self, tenant_id: int, name: str) -> Integration | None:
        row = self.conn.execute(
            select(integrations).where(
                integrations.c.tenant_id == tenant_id, integrations.c.name == name
            )
        ).first()
        return None if row is None else integration_from_row(row)

    def revoke(self, integration_id: int, now: float) -> None:
        self.conn.execute(
            update(integrations)
            .where(integrations.c.id == integration_id, integrations.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class SqlAdminKeyRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        name: str,
        role: Role,
        tenant_id: int | None,
        key_id: str,
        key_hash: bytes,
        now: float,
    ) -> AdminKey:
        new_id = self.conn.execute(
            insert(admin_keys)
            .values(
                name=name,
                role=role.value,
                tenant_id=tenant_id,
                key_id=key_id,
                key_hash=key_hash,
                created_at=now,
            )
            .returning(admin_keys.c.id)
        ).scalar_one()
        return AdminKey(
            id=new_id, key_id=key_id, name=name, role=role, tenant_id=tenant_id, created_at=now
        )

    def by_key_id(self, key_id: str) -> tuple[AdminKey, bytes] | None:
        row = self.conn.execute(_ADMIN_KEYS.where(admin_keys.c.key_id == key_id)).first()
        return None if row is None else (_admin_key(row), row.key_hash)

    def list(self) -> Sequence[AdminKey]:
        rows = self.conn.execute(_ADMIN_KEYS.order_by(admin_keys.c.id))
        return [_admin_key(r) for r in rows]

    def revoke(self, key_id: str, now: float) -> bool:
        result = self.conn.execute(
            update(admin_keys)
            .where(admin_keys.c.key_id == key_id, admin_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return result.rowcount == 1

    def count_active(self) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(admin_keys)
                .where(admin_keys.c.revoked_at.is_(None))
            ).scalar_one()
        )
