"""Providers: billing accounts, each with a billing model fixed at creation, optionally
linked to one tenant (docs/operator-guide.md, "Providers and billing").

Global admins create, rename, delete and list providers; a tenant admin reads its own
tenant's. Every change is one admin event.

**Replacement.** Deleting a tenant's provider and creating another linked to the same
tenant keeps the tenant (its users, methods and settings) but nothing activated under the
old provider: in the creating transaction every live integration of the tenant is marked
pending (its calls answer ``integration_not_activated`` until it exchanges new activation
credentials: services/activations.py) and every active device (push app) of its users is
revoked with the reason ``provider_replaced`` (it hears ``account_not_activated``; its
app methods go, text and phone methods stay), and unused app activation codes are void.
Marking them in that one transaction, rather than comparing a provider generation on
every validation, leaves the validation's read as it was. A first provider of a tenant
(one never linked before, e.g. an existing deployment) changes nothing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import replace

from twostep.domain.billing import BillingModel, Provider, zone
from twostep.domain.entities import AdminKey, Role, Tenant
from twostep.domain.errors import (
    BillingModelImmutable,
    Forbidden,
    InvalidInput,
    ProviderNotFound,
    TenantHasProvider,
)
from twostep.domain.ports.storage import Transaction
from twostep.services import admin_log
from twostep.services.admin import tenant_for
from twostep.services.context import Deps
from twostep.services.devices import revoke_device

PROVIDER_REPLACED = "provider_replaced"  # the revoked devices' reason
_NAME = re.compile(r"^[^\x00-\x1f\x7f-\x9f]{1,128}$")


def _check_name(name: str) -> str:
    if not _NAME.match(name) or name != name.strip():
        raise InvalidInput("name must be 1-128 printable characters", field="name")
    return name


def _global(actor: AdminKey) -> None:
    if actor.role is not Role.GLOBAL_ADMIN:
        raise Forbidden("only a global admin may manage providers")


def fields(provider: Provider) -> dict[str, object]:
    return {
        "name": provider.name,
        "billing_model": provider.billing_model.value,
        "tenant": provider.tenant,
        "time_zone": provider.time_zone,
    }


def visible(tx: Transaction, actor: AdminKey, provider_id: str) -> Provider:
    """The provider if the actor may see it: a global admin any, a tenant admin its own
    tenant's (deleted ones too); anyone else hears "not found"."""
    provider = tx.providers.by_id(provider_id[:32])
    if provider is None or not _may_see(actor, provider):
        raise ProviderNotFound(f"no provider {provider_id[:32]!r}")
    return provider


def _may_see(actor: AdminKey, provider: Provider) -> bool:
    if actor.role is Role.GLOBAL_ADMIN:
        return True
    return (
        actor.role is Role.TENANT_ADMIN
        and provider.tenant_id is not None
        and actor.tenant_id == provider.tenant_id
    )


class ProviderService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def create(
        self,
        actor: AdminKey,
        name: str,
        billing_model: BillingModel,
        tenant_name: str | None = None,
        time_zone: str = "UTC",
    ) -> Provider:
        _global(actor)
        _check_name(name)
        zone(time_zone)
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant: Tenant | None = None
            if tenant_name is not None:
                tenant = tenant_for(tx, actor, tenant_name)
                tx.providers.lock_tenant(tenant.id)
                if tx.providers.live_for_tenant(tenant.id) is not None:
                    raise TenantHasProvider(f"tenant {tenant.name!r} already has a provider")
            provider = Provider(
                id=secrets.token_hex(8),
                name=name,
                billing_model=billing_model,
                tenant_id=tenant.id if tenant else None,
                time_zone=time_zone,
                created_at=now,
                tenant=tenant.name if tenant else None,
            )
            changed = admin_log.changes(None, fields(provider))
            if tenant is not None and tx.providers.ever_for_tenant(tenant.id):
                changed.update(self._replaced(tx, tenant, now))
            tx.providers.add(provider)
            admin_log.record(tx, self.deps, actor, tenant, "provider.create", provider.id, changed)
        return provider

    @staticmethod
    def _replaced(tx: Transaction, tenant: Tenant, now: float) -> dict[str, list[object]]:
        """What activation under the old provider gave stops (see the module docstring)."""
        pending = tx.providers.set_pending(tenant.id, now)
        revoked = 0
        for device_id in tx.providers.active_devices(tenant.id):
            revoke_device(tx, device_id, now, PROVIDER_REPLACED)
            revoked += 1
        cancelled = tx.providers.cancel_device_activations(tenant.id, now)
        return {
            "integrations_pending": [None, pending],
            "devices_revoked": [None, revoked],
            "device_activations_cancelled": [None, cancelled],
        }

    def get(self, actor: AdminKey, provider_id: str) -> Provider:
        with self.deps.storage.transaction() as tx:
            return visible(tx, actor, provider_id)

    def list(self, actor: AdminKey, *, deleted: bool = False) -> Sequence[Provider]:
        """A global admin sees every provider; a tenant admin its tenant's."""
        with self.deps.storage.transaction() as tx:
            if actor.role is Role.GLOBAL_ADMIN:
                return tx.providers.list(deleted=deleted)
            if actor.role is not Role.TENANT_ADMIN or actor.tenant_id is None:
                return []
            return tx.providers.list(actor.tenant_id, deleted=deleted)

    def update(
        self,
        actor: AdminKey,
        provider_id: str,
        *,
        name: str | None = None,
        billing_model: BillingModel | None = None,
        time_zone: str | None = None,
    ) -> Provider:
        """Rename; the billing model and the time zone never change (asking for the value
        they have is no change)."""
        _global(actor)
        with self.deps.storage.transaction(write=True) as tx:
            provider = visible(tx, actor, provider_id)
            if billing_model is not None and billing_model is not provider.billing_model:
                raise BillingModelImmutable(
                    f"the billing model is {provider.billing_model.value} and never changes"
                )
            if time_zone is not None and time_zone != provider.time_zone:
                # A zone moves every month's bounds, and closed months must not move.
                raise InvalidInput("a provider's time zone never changes", field="time_zone")
            if provider.deleted_at is not None:
                raise ProviderNotFound(f"provider {provider.id!r} is deleted")
            if name is not None and name != provider.name:
                _check_name(name)
                tx.providers.rename(provider.id, name)
                tenant = tx.tenants.by_id(provider.tenant_id) if provider.tenant_id else None
                changed = {"name": [provider.name, name]}
                admin_log.record(
                    tx, self.deps, actor, tenant, "provider.update", provider.id, changed
                )
                provider = replace(provider, name=name)
        return provider

    def delete(self, actor: AdminKey, provider_id: str) -> Provider:
        """The provider ends now; its row stays, so its months can still be stated."""
        _global(actor)
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            provider = visible(tx, actor, provider_id)
            if provider.tenant_id is not None:
                tx.providers.lock_tenant(provider.tenant_id)
            if not tx.providers.delete(provider.id, now):
                raise ProviderNotFound(f"provider {provider.id!r} is deleted")
            tenant = tx.tenants.by_id(provider.tenant_id) if provider.tenant_id else None
            changed = {"deleted_at": [None, now]}
            admin_log.record(tx, self.deps, actor, tenant, "provider.delete", provider.id, changed)
        return replace(provider, deleted_at=now)
