"""Providers, integrations' activation credentials and pending state, and licenses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from twostep.adapters.storage.tables import (
    activations,
    devices,
    integration_activations,
    integrations,
    license_assignments,
    license_pools,
    providers,
    tenants,
)
from twostep.domain.billing import BillingModel, Provider
from twostep.domain.entities import Integration
from twostep.domain.ports.billing import IntegrationActivation

p = providers.c
a = integration_activations.c

_WITH_TENANT = select(providers, tenants.c.name.label("tenant")).outerjoin(
    tenants, tenants.c.id == p.tenant_id
)


def _provider(row: Any) -> Provider:
    return Provider(
        id=row.id,
        name=row.name,
        billing_model=BillingModel(row.billing_model),
        tenant_id=row.tenant_id,
        time_zone=row.time_zone,
        created_at=row.created_at,
        deleted_at=row.deleted_at,
        tenant=row.tenant,
    )


def _activation(row: Any) -> IntegrationActivation:
    return IntegrationActivation(
        id=row.id,
        integration_id=row.integration_id,
        provider_id=row.provider_id,
        password_hash=bytes(row.password_hash),
        expires_at=row.expires_at,
        used_at=row.used_at,
        failures=row.failures,
    )


class SqlProviderRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- providers ---------------------------------------------------------------------

    def add(self, provider: Provider) -> None:
        self.conn.execute(
            insert(providers).values(
                id=provider.id,
                name=provider.name,
                billing_model=provider.billing_model.value,
                tenant_id=provider.tenant_id,
                time_zone=provider.time_zone,
                created_at=provider.created_at,
            )
        )

    def by_id(self, provider_id: str) -> Provider | None:
        row = self.conn.execute(_WITH_TENANT.where(p.id == provider_id)).first()
        return None if row is None else _provider(row)

    def live_for_tenant(self, tenant_id: int) -> Provider | None:
        row = self.conn.execute(
            _WITH_TENANT.where(p.tenant_id == tenant_id, p.deleted_at.is_(None))
        ).first()
        return None if row is None else _provider(row)

    def ever_for_tenant(self, tenant_id: int) -> bool:
        """Whether the tenant was ever linked to a provider (a new one is a replacement)."""
        found = self.conn.execute(select(p.id).where(p.tenant_id == tenant_id).limit(1))
        return found.first() is not None

    def list(self, tenant_id: int | None = None, *, deleted: bool = False) -> Sequence[Provider]:
        query = _WITH_TENANT.order_by(p.created_at, p.id)
        if tenant_id is not None:
            query = query.where(p.tenant_id == tenant_id)
        if not deleted:
            query = query.where(p.deleted_at.is_(None))
        return [_provider(r) for r in self.conn.execute(query)]

    def rename(self, provider_id: str, name: str) -> None:
        self.conn.execute(update(providers).where(p.id == provider_id).values(name=name))

    def delete(self, provider_id: str, now: float) -> bool:
        done = self.conn.execute(
            update(providers)
            .where(p.id == provider_id, p.deleted_at.is_(None))
            .values(deleted_at=now)
        )
        return done.rowcount == 1

    def lock_tenant(self, tenant_id: int) -> None:
        """Serialise provider changes of one tenant: a no-op update takes the tenant row's
        lock on PostgreSQL (SQLite's write transactions are serial already)."""
        self.conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(name=tenants.c.name)
        )

    # -- integrations' activation ------------------------------------------------------

    def set_pending(self, tenant_id: int, now: float) -> int:
        """Every live integration of the tenant must be activated again."""
        done = self.conn.execute(
            update(integrations)
            .where(integrations.c.tenant_id == tenant_id, integrations.c.revoked_at.is_(None))
            .values(pending_since=now)
        )
        return int(done.rowcount)

    def add_activation(
        self,
        activation: IntegrationActivation,
        code_hash: bytes,
        now: float,
    ) -> None:
        self.conn.execute(
            insert(integration_activations).values(
                id=activation.id,
                integration_id=activation.integration_id,
                provider_id=activation.provider_id,
                code_hash=code_hash,
                password_hash=activation.password_hash,
                created_at=now,
                expires_at=activation.expires_at,
            )
        )

    def activation_by_code(self, code_hash: bytes) -> IntegrationActivation | None:
        row = self.conn.execute(
            select(integration_activations).where(a.code_hash == code_hash)
        ).first()
        return None if row is None else _activation(row)

    def failed_activation(self, activation_id: str) -> None:
        self.conn.execute(
            update(integration_activations)
            .where(a.id == activation_id)
            .values(failures=a.failures + 1)
        )

    def use_activation(self, activation_id: str, now: float, max_failures: int) -> bool:
        """Single use: one conditional update, won by exactly one exchange."""
        done = self.conn.execute(
            update(integration_activations)
            .where(
                a.id == activation_id,
                a.used_at.is_(None),
                a.expires_at > now,
                a.failures < max_failures,
            )
            .values(used_at=now)
        )
        return done.rowcount == 1

    def integration(self, integration_id: int) -> Integration | None:
        row = self.conn.execute(
            select(integrations).where(integrations.c.id == integration_id)
        ).first()
        if row is None:
            return None
        return Integration(
            id=row.id,
            tenant_id=row.tenant_id,
            name=row.name,
            key_id=row.key_id,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            legacy=bool(row.legacy),
            trusted_client_addresses=bool(row.trusted_client_addresses),
        )

    def activated(self, integration_id: int, key_id: str, key_hash: bytes) -> None:
        """The integration's new key; it is activated again."""
        self.conn.execute(
            update(integrations)
            .where(integrations.c.id == integration_id)
            .values(key_id=key_id, key_hash=key_hash, pending_since=None)
        )

    def drop_activations(self, integration_id: int) -> None:
        """Older credentials of the integration are void once one was used or a new one
        made."""
        self.conn.execute(
            delete(integration_activations).where(
                a.integration_id == integration_id, a.used_at.is_(None)
            )
        )

    # -- licenses ----------------------------------------------------------------------

    def licenses(self, tenant_id: int) -> tuple[int, int]:
        """(held, assigned), taking the pool row's lock first (see ``lock_tenant``)."""
        self.conn.execute(
            update(license_pools)
            .where(license_pools.c.tenant_id == tenant_id)
            .values(held=license_pools.c.held)
        )
        held = self.conn.execute(
            select(license_pools.c.held).where(license_pools.c.tenant_id == tenant_id)
        ).scalar()
        assigned = self.conn.execute(
            select(func.count())
            .select_from(license_assignments)
            .where(license_assignments.c.tenant_id == tenant_id)
        ).scalar_one()
        return int(held or 0), int(assigned)

    def set_held(self, tenant_id: int, held: int, now: float) -> None:
        done = self.conn.execute(
            update(license_pools)
            .where(license_pools.c.tenant_id == tenant_id)
            .values(held=held, updated_at=now)
        )
        if done.rowcount == 0:
            self.conn.execute(
                insert(license_pools).values(tenant_id=tenant_id, held=held, updated_at=now)
            )

    def is_licensed(self, user_id: int) -> bool:
        found = self.conn.execute(
            select(license_assignments.c.user_id).where(license_assignments.c.user_id == user_id)
        )
        return found.first() is not None

    def assign(self, tenant_id: int, user_id: int, now: float) -> None:
        self.conn.execute(
            insert(license_assignments).values(
                user_id=user_id, tenant_id=tenant_id, assigned_at=now
            )
        )

    def unassign(self, user_id: int) -> bool:
        done = self.conn.execute(
            delete(license_assignments).where(license_assignments.c.user_id == user_id)
        )
        return done.rowcount == 1

    def licensed_users(self, tenant_id: int) -> Sequence[int]:
        rows = self.conn.execute(
            select(license_assignments.c.user_id).where(
                license_assignments.c.tenant_id == tenant_id
            )
        )
        return [int(r.user_id) for r in rows]

    # -- a replacement's effect on devices ---------------------------------------------

    def active_devices(self, tenant_id: int) -> Sequence[str]:
        rows = self.conn.execute(
            select(devices.c.id).where(
                devices.c.tenant_id == tenant_id, devices.c.state == "active"
            )
        )
        return [r.id for r in rows]

    def cancel_device_activations(self, tenant_id: int, now: float) -> int:
        """Unused app activation codes made under the provider replaced are void too."""
        done = self.conn.execute(
            update(activations)
            .where(activations.c.tenant_id == tenant_id, activations.c.used_at.is_(None))
            .values(used_at=now)
        )
        return int(done.rowcount)
