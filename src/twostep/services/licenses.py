"""Licenses (issue 15, item 3): a tenant holds a number of licenses (set by a global
admin, who sells them) and its admins assign them to users, never more than it holds.
Per-user billing bills the users configured for MFA who hold none (domain/billing.py).

Assigning is checked under the tenant's license pool row lock (a no-op update first), so
two assignments at once on two nodes cannot both take the last license. Each assignment
and unassignment records the user's billing state in its own transaction, and one admin
event."""

from __future__ import annotations

from dataclasses import dataclass

from twostep.domain.entities import AdminKey, Role
from twostep.domain.errors import Forbidden, InvalidInput, LicensesExhausted, LicensesInUse
from twostep.domain.permissions import Permission, allows
from twostep.services import admin_log
from twostep.services.admin import tenant_for, user_for
from twostep.services.context import Deps

MAX_LICENSES = 10_000_000


@dataclass(frozen=True, slots=True)
class Licenses:
    tenant: str
    held: int
    assigned: int


class LicenseService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def get(self, actor: AdminKey, tenant_name: str) -> Licenses:
        if not allows(actor.role, Permission.USERS_READ):
            raise Forbidden("this admin may not read licenses")
        with self.deps.storage.transaction() as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            held, assigned = tx.providers.licenses(tenant.id)
        return Licenses(tenant.name, held, assigned)

    def set_held(self, actor: AdminKey, tenant_name: str, held: int) -> Licenses:
        if actor.role is not Role.GLOBAL_ADMIN:
            raise Forbidden("only a global admin may set the licenses a tenant holds")
        if not 0 <= held <= MAX_LICENSES:
            raise InvalidInput(f"held must be 0 to {MAX_LICENSES}", field="held")
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            before, assigned = tx.providers.licenses(tenant.id)
            if held < assigned:
                raise LicensesInUse(f"{assigned} licenses are assigned")
            tx.providers.set_held(tenant.id, held, self.deps.clock.now())
            changed = {"held": [before, held]}
            admin_log.record(tx, self.deps, actor, tenant, "licenses.update", tenant.name, changed)
        return Licenses(tenant.name, held, assigned)

    def assign(self, actor: AdminKey, tenant_name: str, user_name: str) -> Licenses:
        """Give the user a license (no change if they hold one)."""
        return self._change(actor, tenant_name, user_name, assign=True)

    def unassign(self, actor: AdminKey, tenant_name: str, user_name: str) -> Licenses:
        """Take the user's license back (no change if they hold none)."""
        return self._change(actor, tenant_name, user_name, assign=False)

    def _change(
        self, actor: AdminKey, tenant_name: str, user_name: str, *, assign: bool
    ) -> Licenses:
        if not allows(actor.role, Permission.USERS_WRITE):
            raise Forbidden("this admin may not assign licenses")
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            held, assigned = tx.providers.licenses(tenant.id)  # takes the pool's lock
            had = tx.providers.is_licensed(user.id)
            if assign and not had:
                if assigned >= held:
                    raise LicensesExhausted(f"all {held} licenses of the tenant are assigned")
                tx.providers.assign(tenant.id, user.id, now)
                assigned += 1
            elif not assign and had:
                tx.providers.unassign(user.id)
                assigned -= 1
            else:
                return Licenses(tenant.name, held, assigned)
            tx.billing.record_users([user.id], now)
            action = "license.assign" if assign else "license.unassign"
            changed = {"licensed": [had, assign]}
            admin_log.record(tx, self.deps, actor, tenant, action, user.name, changed)
        return Licenses(tenant.name, held, assigned)
