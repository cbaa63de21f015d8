"""The admin trail: every change an admin makes writes one admin event, in the same
transaction as the change (no change without its record, no record of a change rolled
back). A refused change is recorded apart, by the interface that refused it (``refused``).

Values are recorded field by field, before and after; a secret field is recorded as
changed ("***"), never its value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from twostep.domain.admin_events import OK, AdminEvent
from twostep.domain.entities import AdminKey, Tenant
from twostep.domain.ports.admin_events import AdminEventSink
from twostep.services.context import Deps

HIDDEN = "***"


class AdminLogWork(Protocol):
    @property
    def admin_events(self) -> AdminEventSink: ...


def changes(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    secret: Iterable[str] = (),
) -> dict[str, list[Any]]:
    """``{"field": [before, after]}`` for each field that differs; a created thing has
    ``before`` None, a deleted one ``after`` None. Secret fields show ``***``."""
    old, new = dict(before or {}), dict(after or {})
    hidden = set(secret)
    found: dict[str, list[Any]] = {}
    for name in sorted(old.keys() | new.keys()):
        was, now = old.get(name), new.get(name)
        if was == now:
            continue
        if name in hidden:
            was = HIDDEN if was is not None else None
            now = HIDDEN if now is not None else None
        found[name] = [was, now]
    return found


def event(
    deps: Deps,
    actor: AdminKey,
    tenant: Tenant | None,
    action: str,
    target: str | None,
    *,
    result: str = OK,
    changed: Mapping[str, Any] | None = None,
) -> AdminEvent:
    return AdminEvent(
        event_id=str(uuid.uuid4()),
        at=deps.clock.now(),
        actor=actor.key_id,
        action=action,
        result=result,
        interface=actor.interface,
        server_name=deps.node.name,
        tenant=tenant.name if tenant is not None else None,
        actor_name=actor.name,
        role=actor.role.value,
        source=actor.source,
        target=target,
        changes=dict(changed or {}),
    )


def record(
    tx: AdminLogWork,
    deps: Deps,
    actor: AdminKey,
    tenant: Tenant | None,
    action: str,
    target: str | None,
    changed: Mapping[str, Any] | None = None,
) -> None:
    """One admin event for a change made in ``tx`` (the change's own transaction)."""
    tx.admin_events.add(
        tenant.id if tenant is not None else None,
        event(deps, actor, tenant, action, target, changed=changed),
    )
