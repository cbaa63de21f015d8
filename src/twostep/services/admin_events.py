"""Reading the admin trail (services/admin_log.py writes it)."""

from __future__ import annotations

from collections.abc import Sequence

from twostep.domain.admin_events import AdminEvent, AdminEventQuery
from twostep.domain.entities import AdminKey, Role
from twostep.domain.errors import Forbidden
from twostep.services.admin import tenant_for
from twostep.services.context import Deps

MAX_PAGE = 1000


class AdminTrail:
    """Reading the admin trail: a tenant's events, or every event (global admins)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def query(
        self,
        actor: AdminKey,
        tenant_name: str | None,
        *,
        action: str | None = None,
        actor_key: str | None = None,
        target: str | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Sequence[AdminEvent]:
        """``tenant_name`` None: every tenant's events and the global ones, for a global
        admin only. A tenant admin reads its own tenant's (another's is "not found")."""
        if tenant_name is None and actor.role is not Role.GLOBAL_ADMIN:
            raise Forbidden("only a global admin reads every tenant's admin events")
        with self.deps.storage.transaction() as tx:
            tenant_id = tenant_for(tx, actor, tenant_name).id if tenant_name else None
            return tx.admin_events.query(
                AdminEventQuery(
                    tenant_id=tenant_id,
                    every_tenant=tenant_name is None,
                    action=action,
                    actor=actor_key,
                    target=target,
                    since=since,
                    until=until,
                    after_seq=after_seq,
                    limit=max(1, min(limit, MAX_PAGE)),
                    newest_first=newest_first,
                )
            )
