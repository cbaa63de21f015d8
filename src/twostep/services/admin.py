"""Administration: tenants, their settings, users, integrations and admin API keys.

Every call takes the acting ``AdminKey``; a tenant admin reaches only its tenant.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from twostep.domain.entities import (
    AdminKey,
    Integration,
    MethodStatus,
    MfaState,
    Role,
    Tenant,
    User,
)
from twostep.domain.errors import (
    AdminKeyNotFound,
    Conflict,
    Forbidden,
    IntegrationExists,
    IntegrationNotFound,
    InvalidInput,
    TenantExists,
    TenantNotFound,
    UserExists,
    UserNotFound,
)
from twostep.domain.names import new_user_name
from twostep.domain.phone import normalise_phone
from twostep.domain.ports.storage import Transaction
from twostep.domain.ports.users import NewUser
from twostep.domain.settings import TenantSettings
from twostep.services import admin_log, credentials
from twostep.services.context import Deps

DEFAULT_TENANT = "default"
_TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a uid with no name (a container's arbitrary user)
        return ""


# The operator at the shell (CLI): the database is already theirs. The admin trail names
# them by the OS account that ran the command ("cli:root").
OPERATOR = AdminKey(
    id=0,
    key_id="operator",
    name="operator",
    role=Role.GLOBAL_ADMIN,
    tenant_id=None,
    created_at=0,
    source=f"cli:{_os_user()}".rstrip(":")[:64],
    interface="cli",
)


@dataclass(frozen=True, slots=True)
class UserChanges:
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mfa: MfaState | None = None
    language: str | None = None
    clear: frozenset[str] = frozenset()  # fields to set to null


def tenant_for(tx: Transaction, actor: AdminKey, name: str) -> Tenant:
    """The tenant ``name`` if the actor may manage it. A tenant admin asking for another
    tenant hears "not found", so tenant names do not leak across tenants."""
    tenant = tx.tenants.by_name(name)
    if tenant is None or not actor.may_manage(tenant.id):
        raise TenantNotFound(f"no tenant {name!r}")
    return tenant


def user_for(tx: Transaction, tenant: Tenant, name: str) -> User:
    """The user ``name`` names in any case, width or normalisation (see domain.names)."""
    user = tx.users.by_name(tenant.id, name)
    if user is None:
        raise UserNotFound(f"no user {name!r} in tenant {tenant.name!r}")
    return user


def keep_a_default(tx: Transaction, user_id: int) -> None:
    """After methods went away: a default that no longer exists moves to the first active
    method left (or to none)."""
    user = tx.users.by_id(user_id)
    if user is None or user.default_method_id is None:
        return
    if tx.methods.by_id(user_id, user.default_method_id) is None:
        rest = [m for m in tx.methods.for_user(user_id) if m.status is MethodStatus.ACTIVE]
        tx.users.set_default_method(user_id, rest[0].id if rest else None)


def _require_global(actor: AdminKey) -> None:
    if actor.role is not Role.GLOBAL_ADMIN:
        raise Forbidden("only a global admin may do this")


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value) or value != value.strip():
        raise InvalidInput(f"{what} must be 1-128 printable characters", field=what)
    return value


class AdminService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # -- tenants ---------------------------------------------------------------

    def ensure_default_tenant(self) -> Tenant:
        try:
            with self.deps.storage.transaction(write=True) as tx:
                tenant = tx.tenants.by_name(DEFAULT_TENANT)
                if tenant is None:
                    tenant = tx.tenants.add(DEFAULT_TENANT, TenantSettings(), self.deps.clock.now())
                return tenant
        except Conflict:  # another node created it at the same moment
            with self.deps.storage.transaction() as tx:
                found = tx.tenants.by_name(DEFAULT_TENANT)
            assert found is not None
            return found

    def create_tenant(
        self, actor: AdminKey, name: str, settings: dict[str, Any] | None = None
    ) -> Tenant:
        _require_global(actor)
        if not _TENANT_NAME.match(name):
            raise InvalidInput(
                "a tenant name is 1-64 lower-case letters, digits, '-' or '_'", field="name"
            )
        parsed = TenantSettings.from_dict(settings or {})
        with self.deps.storage.transaction(write=True) as tx:
            if tx.tenants.by_name(name) is not None:
                raise TenantExists(f"tenant {name!r} already exists")
            tenant = tx.tenants.add(name, parsed, self.deps.clock.now())
            given = admin_log.changes(TenantSettings().to_dict(), parsed.to_dict())
            given["name"] = [None, name]
            admin_log.record(tx, self.deps, actor, tenant, "tenant.create", name, given)
            return tenant

    def list_tenants(self, actor: AdminKey) -> Sequence[Tenant]:
        with self.deps.storage.transaction() as tx:
            return [t for t in tx.tenants.all() if actor.may_manage(t.id)]

    def get_tenant(self, actor: AdminKey, name: str) -> Tenant:
        with self.deps.storage.transaction() as tx:
            return tenant_for(tx, actor, name)

    def update_settings(self, actor: AdminKey, name: str, changes: dict[str, Any]) -> Tenant:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, name)
            settings = tenant.settings.updated(changes)
            tx.tenants.save_settings(tenant.id, settings)
            changed = admin_log.changes(tenant.settings.to_dict(), settings.to_dict())
            admin_log.record(tx, self.deps, actor, tenant, "settings.update", name, changed)
            return replace(tenant, settings=settings)

    # -- users -----------------------------------------------------------------

    def create_user(self, actor: AdminKey, tenant_name: str, new: NewUser) -> User:
        """Stored under the name's display form; refused when another user of the tenant
        has the same lookup key ("ALICE" when "Alice" exists), naming that user."""
        name = new_user_name(new.name)
        phone = normalise_phone(new.phone) if new.phone else None
        try:
            with self.deps.storage.transaction(write=True) as tx:
                tenant = tenant_for(tx, actor, tenant_name)
                existing = tx.users.by_name(tenant.id, name.display)
                if existing is not None:
                    raise UserExists(f"user {existing.name!r} already exists")
                now = self.deps.clock.now()
                user = tx.users.add(tenant.id, replace(new, name=name.display, phone=phone), now)
                tx.billing.record_users([user.id], now)  # per-user billing's history
                given = admin_log.changes(None, admin_log.user_fields(user))
                admin_log.record(tx, self.deps, actor, tenant, "user.create", user.name, given)
                return user
        except UserExists:
            raise
        except Conflict as exc:  # another node added a user with this key at the same moment
            raise UserExists(f"user {name.display!r} already exists") from exc

    def list_users(
        self, actor: AdminKey, tenant_name: str, after: str | None = None, limit: int = 100
    ) -> Sequence[User]:
        with self.deps.storage.transaction() as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            return tx.users.list(tenant.id, after, limit)

    def get_user(self, actor: AdminKey, tenant_name: str, name: str) -> User:
        with self.deps.storage.transaction() as tx:
            return user_for(tx, tenant_for(tx, actor, tenant_name), name)

    def update_user(
        self, actor: AdminKey, tenant_name: str, name: str, changes: UserChanges
    ) -> User:
        values: dict[str, Any] = {
            k: getattr(changes, k)
            for k in ("first_name", "last_name", "email", "phone", "mfa", "language")
            if getattr(changes, k) is not None
        }
        if "phone" in values:
            values["phone"] = normalise_phone(values["phone"])
        for field in changes.clear:
            if field not in ("first_name", "last_name", "email", "phone", "language"):
                raise InvalidInput(f"{field} cannot be cleared", field=field)
            values[field] = None
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            before = user_for(tx, tenant, name)
            user = replace(before, **values)
            tx.users.update(user)
            if user.mfa is not before.mfa:  # per-user billing's history
                tx.billing.record_users([user.id], self.deps.clock.now())
            changed = admin_log.changes(admin_log.user_fields(before), admin_log.user_fields(user))
            admin_log.record(tx, self.deps, actor, tenant, "user.update", user.name, changed)
            return user

    def delete_user(self, actor: AdminKey, tenant_name: str, name: str) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, name)
            tx.billing.record_gone(tenant.id, user.id, user.name, self.deps.clock.now())
            tx.users.delete(user.id)
            gone = admin_log.changes(admin_log.user_fields(user), None)
            admin_log.record(tx, self.deps, actor, tenant, "user.delete", user.name, gone)

    def unlock_user(self, actor: AdminKey, tenant_name: str, name: str) -> User:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, name)
            tx.users.unlock(user.id)
            unlocked = replace(user, failed_count=0, locked_until=None)
            changed = admin_log.changes(
                {"failed_count": user.failed_count, "locked_until": user.locked_until},
                {"failed_count": 0, "locked_until": None},
            )
            admin_log.record(tx, self.deps, actor, tenant, "user.unlock", user.name, changed)
            return unlocked

    # -- integrations ----------------------------------------------------------

    def create_integration(
        self, actor: AdminKey, tenant_name: str, name: str, *, legacy: bool = False
    ) -> tuple[Integration, str]:
        """Returns the integration and its key: the only time the key is shown. A
        ``legacy`` client sends a password and nothing else (an app password stands in)."""
        _check_name(name, "name")
        key = credentials.new_key(credentials.INTEGRATION_PREFIX)
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            if tx.integrations.by_name(tenant.id, name) is not None:
                raise IntegrationExists(f"integration {name!r} already exists")
            integration = tx.integrations.add(
                tenant.id, name, key.key_id, key.key_hash, self.deps.clock.now(), legacy=legacy
            )
            given = {"name": [None, name], "key_id": [None, key.key_id], "legacy": [None, legacy]}
            admin_log.record(tx, self.deps, actor, tenant, "integration.create", name, given)
        return integration, key.key

    def set_legacy(self, actor: AdminKey, tenant_name: str, name: str, legacy: bool) -> Integration:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            integration = tx.integrations.by_name(tenant.id, name)
            if integration is None:
                raise IntegrationNotFound(f"no integration {name!r}")
            tx.integrations.set_legacy(integration.id, legacy)
            changed = admin_log.changes({"legacy": integration.legacy}, {"legacy": legacy})
            admin_log.record(tx, self.deps, actor, tenant, "integration.update", name, changed)
        return replace(integration, legacy=legacy)

    def set_trusted_client_addresses(
        self, actor: AdminKey, tenant_name: str, name: str, trusted: bool
    ) -> Integration:
        """Whether the integration vouches for the client addresses it sends: only then may
        they meet the tenant's trusted networks and skip the second factor."""
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            integration = tx.integrations.by_name(tenant.id, name)
            if integration is None:
                raise IntegrationNotFound(f"no integration {name!r}")
            tx.integrations.set_trusted_client_addresses(integration.id, trusted)
            changed = admin_log.changes(
                {"trusted_client_addresses": integration.trusted_client_addresses},
                {"trusted_client_addresses": trusted},
            )
            admin_log.record(tx, self.deps, actor, tenant, "integration.update", name, changed)
        return replace(integration, trusted_client_addresses=trusted)

    def list_integrations(self, actor: AdminKey, tenant_name: str) -> Sequence[Integration]:
        with self.deps.storage.transaction() as tx:
            return tx.integrations.list(tenant_for(tx, actor, tenant_name).id)

    def revoke_integration(self, actor: AdminKey, tenant_name: str, name: str) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            integration = tx.integrations.by_name(tenant.id, name)
            if integration is None:
                raise IntegrationNotFound(f"no integration {name!r}")
            now = self.deps.clock.now()
            tx.integrations.revoke(integration.id, now)
            changed = {"revoked_at": [integration.revoked_at, integration.revoked_at or now]}
            admin_log.record(tx, self.deps, actor, tenant, "integration.revoke", name, changed)

    def authenticate_integration(self, key: str) -> Integration | None:
        with self.deps.storage.transaction() as tx:
            return credentials.find_integration(tx, key)

    # -- admin API keys --------------------------------------------------------

    def create_admin_key(
        self, actor: AdminKey, name: str, role: Role, tenant_name: str | None = None
    ) -> tuple[AdminKey, str]:
        _require_global(actor)
        _check_name(name, "name")
        key = credentials.new_key(credentials.ADMIN_PREFIX)
        with self.deps.storage.transaction(write=True) as tx:
            tenant = None
            if role is Role.TENANT_ADMIN:
                if tenant_name is None:
                    raise InvalidInput("a tenant admin key needs a tenant", field="tenant")
                tenant = tenant_for(tx, actor, tenant_name)
            elif tenant_name is not None:
                raise InvalidInput("a global admin key has no tenant", field="tenant")
            admin = tx.admin_keys.add(
                name,
                role,
                tenant.id if tenant else None,
                key.key_id,
                key.key_hash,
                self.deps.clock.now(),
            )
            given = admin_log.changes(
                None, {"name": name, "role": role.value, "tenant": tenant_name}
            )
            admin_log.record(tx, self.deps, actor, tenant, "admin_key.create", key.key_id, given)
        return replace(admin, tenant=tenant_name), key.key

    def bootstrap_admin_key(self) -> str | None:
        """On first start, when no admin key exists yet, make a global one (shown once)."""
        with self.deps.storage.transaction() as tx:
            if tx.admin_keys.count_active() > 0:
                return None
        _admin, key = self.create_admin_key(OPERATOR, "bootstrap", Role.GLOBAL_ADMIN)
        return key

    def list_admin_keys(self, actor: AdminKey) -> Sequence[AdminKey]:
        _require_global(actor)
        with self.deps.storage.transaction() as tx:
            return tx.admin_keys.list()

    def revoke_admin_key(self, actor: AdminKey, key_id: str) -> None:
        _require_global(actor)
        with self.deps.storage.transaction(write=True) as tx:
            found = tx.admin_keys.by_key_id(key_id)
            now = self.deps.clock.now()
            if found is None or not tx.admin_keys.revoke(key_id, now):
                raise AdminKeyNotFound(f"no active key {key_id!r}")
            revoked = found[0]
            tenant = tx.tenants.by_id(revoked.tenant_id) if revoked.tenant_id is not None else None
            changed = {"revoked_at": [None, now]}
            admin_log.record(tx, self.deps, actor, tenant, "admin_key.revoke", key_id, changed)

    def authenticate_admin(self, key: str) -> AdminKey | None:
        with self.deps.storage.transaction() as tx:
            return credentials.find_admin_key(tx, key)
