"""The admin trail: every change an admin makes writes one admin event, in the same
transaction as the change (no change without its record, no record of a change rolled
back). A refused change is recorded apart, in its own transaction, by the interface that
refused it (``refused``): the HTTP admin dependency and the CLI's mutating commands.

Values are recorded field by field, before and after; a secret field is recorded as
changed ("***"), never its value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from twostep.domain.admin_events import OK, AdminEvent
from twostep.domain.entities import AdminKey, Method, Tenant, User
from twostep.domain.phone import mask_phone
from twostep.domain.ports.admin_events import AdminEventSink
from twostep.factors.email import mask_address
from twostep.services.context import Deps

HIDDEN = "***"
# A user changing their own security info at the self-service portal: the trail's actor is
# ``self`` (the key id no admin key has), named by the user, with the role ``user``.
SELF = "self"
SELF_ROLE = "user"


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


def user_fields(user: User) -> dict[str, Any]:
    """What the trail records of a user: what an admin reads of them through the API."""
    return {
        "name": user.name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        "mfa": user.mfa.value,
        "language": user.language,
    }


def method_fields(method: Method) -> dict[str, Any]:
    """What the trail records of a method: its number and address masked, as the API
    shows them; never a seed or a PIN."""
    return {
        "kind": method.kind.value,
        "status": method.status.value,
        "label": method.label,
        "serial": method.serial,
        "phone": mask_phone(method.phone) if method.phone else None,
        "email": mask_address(method.email) if method.email else None,
        "device": method.device_id,
    }


def event(
    deps: Deps,
    actor: AdminKey,
    tenant: str | None,
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
        tenant=tenant,
        actor_name=actor.name,
        role=SELF_ROLE if actor.key_id == SELF else actor.role.value,
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
        event(deps, actor, tenant.name if tenant else None, action, target, changed=changed),
    )


def refused(
    deps: Deps,
    actor: AdminKey,
    tenant_name: str | None,
    action: str,
    target: str | None,
    code: str,
) -> None:
    """One admin event for a change refused with the error ``code``, in its own
    transaction (the change's rolled back). It is filed under the tenant asked for when
    the actor may manage it; otherwise under the actor's own tenant (or as global), so a
    tenant admin's probe of another tenant shows in the prober's trail, never in the
    other tenant's. The event names the tenant as asked."""
    # What a refused call named is the caller's text: cut to what the trail's columns hold.
    asked = tenant_name[:64] if tenant_name is not None else None
    named = target[:512] if target is not None else None
    with deps.storage.transaction(write=True) as tx:
        found = tx.tenants.by_name(tenant_name) if tenant_name is not None else None
        filed = found.id if found is not None and actor.may_manage(found.id) else actor.tenant_id
        tx.admin_events.add(filed, event(deps, actor, asked, action[:48], named, result=code))
