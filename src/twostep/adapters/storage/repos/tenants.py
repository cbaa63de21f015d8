from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, insert, select, update

from twostep.adapters.storage.tables import tenants
from twostep.domain.entities import Tenant
from twostep.domain.settings import TenantSettings


@lru_cache(maxsize=256)
def parse_settings(text: str) -> TenantSettings:
    """Settings change rarely and are read on every validation: parse each text once."""
    return TenantSettings.from_dict(json.loads(text))


def _tenant(row: Any) -> Tenant:
    return Tenant(id=row.id, name=row.name, settings=parse_settings(row.settings))


class SqlTenantRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, name: str, settings: TenantSettings, now: float) -> Tenant:
        tenant_id = self.conn.execute(
            insert(tenants)
            .values(name=name, settings=json.dumps(settings.to_dict()), created_at=now)
            .returning(tenants.c.id)
        ).scalar_one()
        return Tenant(id=tenant_id, name=name, settings=settings)

    def by_name(self, name: str) -> Tenant | None:
        row = self.conn.execute(select(tenants).where(tenants.c.name == name)).first()
        return None if row is None else _tenant(row)

    def by_id(self, tenant_id: int) -> Tenant | None:
        row = self.conn.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        return None if row is None else _tenant(row)

    def all(self) -> Sequence[Tenant]:
        return [_tenant(r) for r in self.conn.execute(select(tenants).order_by(tenants.c.name))]

    def save_settings(self, tenant_id: int, settings: TenantSettings) -> None:
        self.conn.execute(
            update(tenants)
            .where(tenants.c.id == tenant_id)
            .values(settings=json.dumps(settings.to_dict()))
        )
