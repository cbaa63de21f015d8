"""The audit log: one way to start an event, and reading the log."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from twostep.domain.audit import AuditEvent, AuditQuery
from twostep.domain.entities import AdminKey, User
from twostep.domain.settings import TenantSettings
from twostep.services.admin import tenant_for
from twostep.services.context import Deps, Node
from twostep.services.providers import visible

MAX_PAGE = 1000


def event_id() -> str:
    """A new event's id: a UUID of version 7 (RFC 9562), its first 48 bits the time in
    milliseconds, 74 random bits after. Ids made one after another sort together, so the
    audit table's unique index on them grows at its end; a random UUID (version 4) lands
    anywhere in the index, and each insert touched another of its pages (on SQLite about
    10 us more per accepted validation, more as the table grows)."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    value = value & ~(0xF << 76 | 0x3 << 62) | 0x7 << 76 | 0x2 << 62  # version 7, RFC variant
    hexa = f"{value:032x}"
    return f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"


def new_event(
    node: Node,
    now: float,
    tenant: str,
    settings: TenantSettings,
    user_name: str,
    user: User | None,
    *,
    integration: str | None,
    client_ip: str | None,
    interface: str,
    method: str | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    """An attempt's event before its result: who, from where, through what. The optional
    fields are filled only where the tenant's ``audit_fields`` ask for them. A known user
    is recorded by their display name, whatever variant was typed ("ALICE" for "Alice")."""
    wanted = settings.audit.audit_fields
    return AuditEvent(
        event_id=event_id(),
        at=now,
        tenant=tenant,
        user=user.name if user is not None else user_name,
        method=method,
        result="",
        reason=None,
        integration=integration,
        server_name=node.name,
        server_ip=node.ip,
        client_ip=client_ip if "client_ip" in wanted else None,
        first_name=user.first_name if user and "first_name" in wanted else None,
        last_name=user.last_name if user and "last_name" in wanted else None,
        email=user.email if user and "email" in wanted else None,
        interface=interface,
        request_id=request_id,
    )


class AuditService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def query(
        self,
        actor: AdminKey,
        tenant_name: str | None,
        *,
        provider: str | None = None,
        user: str | None = None,
        result: str | None = None,
        method: str | None = None,
        request_id: str | None = None,
        reason: str | None = None,
        integration: str | None = None,
        interface: str | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Sequence[AuditEvent]:
        """A tenant's events (the authentication report), or a provider's: those of its
        linked tenant (none if it has none); a provider this admin may not see answers
        ``provider_not_found``."""
        with self.deps.storage.transaction() as tx:
            if provider is not None:
                tenant_id = visible(tx, actor, provider).tenant_id
                if tenant_id is None:
                    return []
            else:
                tenant_id = tenant_for(tx, actor, tenant_name or "").id
            if user is not None:  # a user's events carry their display name: "ALICE" finds "Alice"
                found = tx.users.by_name(tenant_id, user)
                user = found.name if found is not None else user
            return tx.audit.query(
                AuditQuery(
                    tenant_id=tenant_id,
                    user=user,
                    result=result,
                    method=method,
                    request_id=request_id,
                    reason=reason,
                    integration=integration,
                    interface=interface,
                    since=since,
                    until=until,
                    after_seq=after_seq,
                    limit=max(1, min(limit, MAX_PAGE)),
                    newest_first=newest_first,
                )
            )
