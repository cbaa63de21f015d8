"""Managing a tenant's gateways: add (credentials sealed), update (a credential not given
keeps its stored value), list (never the credentials), delete. Failover follows
``position``, lowest first."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twostep.domain.delivery import GatewaySpecs
from twostep.domain.entities import AdminKey
from twostep.domain.errors import GatewayExists, GatewayNotFound, InvalidInput, InvalidSetting
from twostep.domain.ports.gateways import GatewayRecord
from twostep.domain.text import first_refused
from twostep.services import admin_log
from twostep.services.admin import tenant_for
from twostep.services.context import Deps, gateway_context
from twostep.services.gateway_health import FAILURES_READ, MAX_HOURS, HealthReport, summarise

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class GatewayView:
    id: str
    name: str
    kind: str
    position: int
    settings: Mapping[str, Any]  # without the credentials
    credentials: tuple[str, ...]  # names of the credential fields that are set
    inbound_url: str  # where the provider posts texts back
    calls_url: str  # where the provider posts the keys pressed in a call


class GatewayAdmin:
    def __init__(self, deps: Deps, specs: GatewaySpecs, public_url: str, home: Path) -> None:
        self.deps = deps
        self.specs = specs
        self.public_url = public_url.rstrip("/")
        self.home = home.resolve()

    def add(
        self,
        actor: AdminKey,
        tenant_name: str,
        name: str,
        kind: str,
        settings: Mapping[str, Any],
        position: int | None = None,
    ) -> GatewayView:
        if not _NAME.match(name):
            raise InvalidInput(
                "a gateway name is 1-64 letters, digits, '.', '_' or '-'", field="name"
            )
        if position is not None and not 0 <= position <= 1000:
            raise InvalidInput("position must be 0-1000", field="position")
        if kind == "outbox":
            settings = {**settings, "path": self._outbox_path(settings.get("path"))}
        checked = self.specs.check(kind, settings)
        hidden = self.specs.secret_fields(kind)
        plain = {k: v for k, v in checked.items() if k not in hidden}
        credentials = {k: v for k, v in checked.items() if k in hidden and v not in (None, "", {})}
        gateway_id = "gw_" + secrets.token_hex(12)
        sealed = (
            self.deps.secrets.seal(
                json.dumps(credentials, sort_keys=True).encode(), gateway_context(gateway_id)
            )
            if credentials
            else None
        )
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            existing = tx.gateways.for_tenant(tenant.id)
            if any(g.name == name for g in existing):
                raise GatewayExists(f"gateway {name!r} already exists")
            if position is None:
                position = max((g.position for g in existing), default=-1) + 1
            record = GatewayRecord(
                id=gateway_id,
                tenant_id=tenant.id,
                name=name,
                kind=kind,
                position=position,
                settings=plain,
                sealed_secrets=sealed,
                created_at=self.deps.clock.now(),
            )
            tx.gateways.add(record)
            given = admin_log.changes(None, _fields(record) | credentials, secret=credentials)
            admin_log.record(tx, self.deps, actor, tenant, "gateway.add", name, given)
        return self._view(record, tuple(sorted(credentials)))

    def update(
        self, actor: AdminKey, tenant_name: str, name: str, settings: Mapping[str, Any]
    ) -> GatewayView:
        """A gateway's settings replaced (its kind, name and position stay). A credential
        not given keeps its stored value: credentials are write-only, so a form shows them
        blank and a blank one means "unchanged"."""
        with self.deps.storage.transaction() as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            record = next((r for r in tx.gateways.for_tenant(tenant.id) if r.name == name), None)
        if record is None:
            raise GatewayNotFound(f"no gateway {name!r}")
        kind = record.kind
        hidden = self.specs.secret_fields(kind)
        stored = self._credentials(record)
        given = {k: v for k, v in settings.items() if not (k in hidden and v in (None, ""))}
        merged = {**{k: v for k, v in stored.items() if k not in given}, **given}
        if kind == "outbox":
            merged = {**merged, "path": self._outbox_path(merged.get("path"))}
        checked = self.specs.check(kind, merged)
        plain = {k: v for k, v in checked.items() if k not in hidden}
        credentials = {k: v for k, v in checked.items() if k in hidden and v not in (None, "", {})}
        sealed = (
            self.deps.secrets.seal(
                json.dumps(credentials, sort_keys=True).encode(), gateway_context(record.id)
            )
            if credentials
            else None
        )
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            tx.gateways.replace_settings(record.id, plain, sealed)
            changed = {k: v for k, v in credentials.items() if stored.get(k) != v}
            before = _fields(record) | {k: stored[k] for k in changed if k in stored}
            after = {"kind": kind, "position": record.position, **plain} | changed
            diff = admin_log.changes(before, after, secret=changed)
            admin_log.record(tx, self.deps, actor, tenant, "gateway.update", name, diff)
        updated = GatewayRecord(
            id=record.id,
            tenant_id=record.tenant_id,
            name=record.name,
            kind=kind,
            position=record.position,
            settings=plain,
            sealed_secrets=sealed,
            created_at=record.created_at,
        )
        return self._view(updated, tuple(sorted(credentials)))

    def list(self, actor: AdminKey, tenant_name: str) -> Sequence[GatewayView]:
        with self.deps.storage.transaction() as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            records = tx.gateways.for_tenant(tenant.id)
        return [self._view(r, self._credential_names(r)) for r in records]

    def health(self, actor: AdminKey, tenant_name: str, hours: int = 24) -> HealthReport:
        """Each gateway's deliveries and failures in the last ``hours`` (1-168), from the
        audit log: see ``gateway_health``."""
        if not 1 <= hours <= MAX_HOURS:
            raise InvalidInput(f"hours must be 1-{MAX_HOURS}", field="hours")
        since = self.deps.clock.now() - hours * 3600
        with self.deps.storage.transaction() as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            records = tx.gateways.for_tenant(tenant.id)
            activity = tx.gateways.activity(tenant.id, since, FAILURES_READ)
        return summarise(records, activity, since)

    def delete(self, actor: AdminKey, tenant_name: str, name: str) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            for record in tx.gateways.for_tenant(tenant.id):
                if record.name == name:
                    tx.gateways.delete(record.id)
                    gone = admin_log.changes(_fields(record), None)
                    admin_log.record(tx, self.deps, actor, tenant, "gateway.delete", name, gone)
                    return
        raise GatewayNotFound(f"no gateway {name!r}")

    def _outbox_path(self, given: object) -> str:
        """An outbox writes under $TWOSTEP_HOME, to a ``.jsonl`` file: a tenant admin must
        not be able to append to the key file or the database."""
        if not isinstance(given, str) or not given:
            raise InvalidInput("an outbox needs a path", field="path")
        if first_refused(given) is not None:  # a NUL would fail in the file system's calls
            raise InvalidSetting(
                "path holds a control character; control characters are not accepted",
                field="path",
            )
        path = (self.home / given).resolve()
        if path.suffix != ".jsonl" or not path.is_relative_to(self.home):
            raise InvalidInput("an outbox path is a .jsonl file under TWOSTEP_HOME", field="path")
        return str(path)

    def _credential_names(self, record: GatewayRecord) -> tuple[str, ...]:
        return tuple(sorted(self._credentials(record)))

    def _credentials(self, record: GatewayRecord) -> dict[str, Any]:
        if record.sealed_secrets is None:
            return {}
        opened = self.deps.secrets.open(record.sealed_secrets, gateway_context(record.id))
        found = json.loads(opened)
        return found if isinstance(found, dict) else {}

    def _view(self, record: GatewayRecord, credentials: tuple[str, ...]) -> GatewayView:
        base = f"{self.public_url}/v1/gateways/{record.id}"
        return GatewayView(
            id=record.id,
            name=record.name,
            kind=record.kind,
            position=record.position,
            settings=dict(record.settings),
            credentials=credentials,
            inbound_url=f"{base}/inbound",
            calls_url=f"{base}/calls",
        )


def _fields(record: GatewayRecord) -> dict[str, Any]:
    """What the admin trail records of a gateway: what the API shows, no credential."""
    return {"kind": record.kind, "position": record.position, **record.settings}
