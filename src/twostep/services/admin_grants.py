"""Admin grants: which users may sign in to the management portal, as which role, over which
tenant. Granted and revoked by an admin (API key or CLI), each change one admin event; a
revoked grant signs the user out of the pages at once (their sessions carry its role).

Who may grant what: a global admin anything; a tenant admin ``tenant_admin`` or
``help_desk`` to users of its own tenant over its own tenant. ``global_admin`` has no scope.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from twostep.domain.entities import AdminKey, Role
from twostep.domain.errors import AdminGrantExists, AdminGrantNotFound, Forbidden, InvalidInput
from twostep.domain.pages import AdminGrant
from twostep.domain.permissions import Permission, allows
from twostep.domain.ports.storage import Transaction
from twostep.services import admin_log
from twostep.services.admin import tenant_for, user_for
from twostep.services.context import Deps


def _may_grant(actor: AdminKey) -> None:
    if not allows(actor.role, Permission.ADMINS_WRITE):
        raise Forbidden("this admin may not grant or revoke roles")


def _target(grant: AdminGrant) -> str:
    return f"{grant.tenant}/{grant.user}"


class AdminGrants:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def grant(
        self,
        actor: AdminKey,
        tenant_name: str,
        user_name: str,
        role: Role,
        scope_name: str | None = None,
    ) -> AdminGrant:
        """``role`` to the user over ``scope_name`` (default: the user's tenant; none for a
        global admin)."""
        _may_grant(actor)
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            if role is Role.GLOBAL_ADMIN:
                if actor.role is not Role.GLOBAL_ADMIN:
                    raise Forbidden("only a global admin may grant global_admin")
                if scope_name is not None:
                    raise InvalidInput("a global admin has no tenant scope", field="scope")
                scope = None
            else:
                scope = tenant_for(tx, actor, scope_name or tenant_name)
            scope_id = scope.id if scope is not None else None
            if tx.admin_grants.find(user.id, role, scope_id) is not None:
                raise AdminGrantExists(f"{user.name!r} is already {role.value} there")
            grant = AdminGrant(
                id=secrets.token_hex(8),
                tenant_id=tenant.id,
                user_id=user.id,
                role=role,
                scope_tenant_id=scope_id,
                created_at=self.deps.clock.now(),
                tenant=tenant.name,
                user=user.name,
                scope=scope.name if scope is not None else None,
            )
            tx.admin_grants.add(grant)
            given = {
                "role": [None, role.value],
                "scope": [None, grant.scope],
                "id": [None, grant.id],
            }
            admin_log.record(
                tx, self.deps, actor, scope or tenant, "admin_grant.create", _target(grant), given
            )
        return grant

    def revoke(self, actor: AdminKey, grant_id: str) -> AdminGrant:
        """Delete the grant and end the user's page sessions."""
        _may_grant(actor)
        with self.deps.storage.transaction(write=True) as tx:
            grant = self._visible(tx, actor, grant_id)
            tx.admin_grants.delete(grant.id)
            ended = tx.page_sessions.revoke_user(grant.user_id, self.deps.clock.now())
            scope = tx.tenants.by_id(grant.scope_tenant_id or grant.tenant_id)
            gone = {
                "role": [grant.role.value, None],
                "scope": [grant.scope, None],
                "sessions_ended": [None, ended],
            }
            admin_log.record(
                tx, self.deps, actor, scope, "admin_grant.revoke", _target(grant), gone
            )
        return grant

    def list(self, actor: AdminKey) -> Sequence[AdminGrant]:
        """A global admin sees every grant; a tenant admin those over or in its tenant."""
        with self.deps.storage.transaction() as tx:
            if actor.role is Role.GLOBAL_ADMIN:
                return tx.admin_grants.list()
            if actor.tenant_id is None:
                return []
            return tx.admin_grants.list(actor.tenant_id)

    def of_user(self, user_id: int) -> Sequence[AdminGrant]:
        """The user's grants (the sign-in picks one); no actor: the user has just proved
        who they are."""
        with self.deps.storage.transaction() as tx:
            return tx.admin_grants.for_user(user_id)

    def _visible(self, tx: Transaction, actor: AdminKey, grant_id: str) -> AdminGrant:
        grant = tx.admin_grants.by_id(grant_id)
        if grant is None:
            raise AdminGrantNotFound(f"no admin grant {grant_id!r}")
        if actor.role is not Role.GLOBAL_ADMIN and (
            grant.scope_tenant_id is None
            or not actor.may_manage(grant.scope_tenant_id)
            or not actor.may_manage(grant.tenant_id)
        ):
            raise AdminGrantNotFound(f"no admin grant {grant_id!r}")
        return grant


def pick(grants: Sequence[AdminGrant]) -> AdminGrant | None:
    """The grant a sign-in uses: the widest (global, then tenant admin, then help desk),
    the oldest of equals."""
    rank = {Role.GLOBAL_ADMIN: 0, Role.TENANT_ADMIN: 1, Role.HELP_DESK: 2}
    return min(grants, key=lambda g: (rank[g.role], g.created_at), default=None)
