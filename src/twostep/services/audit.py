"""Reading the audit log."""

from __future__ import annotations

from collections.abc import Sequence

from twostep.domain.audit import AuditEvent, AuditQuery
from twostep.domain.entities import AdminKey
from twostep.services.admin import tenant_for
from twostep.services.context import Deps

MAX_PAGE = 1000


class AuditService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def query(
        self,
        actor: AdminKey,
        tenant_name: str,
        *,
        user: str | None = None,
        result: str | None = None,
        method: str | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Sequence[AuditEvent]:
        with self.deps.storage.transaction() as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            return tx.audit.query(
                AuditQuery(
                    tenant_id=tenant.id,
                    user=user,
                    result=result,
                    method=method,
                    since=since,
                    until=until,
                    after_seq=after_seq,
                    limit=max(1, min(limit, MAX_PAGE)),
                    newest_first=newest_first,
                )
            )
