"""Managing a tenant's directories: add, list, show, change, delete, test the connection.

The reading account's password is sealed to the directory (``directory:<id>``) and never
answered: a directory says ``bind_password_set``. ``reader`` gives the sign-in what a
password bind needs (the settings and the unsealed reading password), cached briefly.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from twostep.domain.directory import Directory, DirectorySettings, Security
from twostep.domain.entities import AdminKey, Role, Tenant
from twostep.domain.errors import (
    DirectoryExists,
    DirectoryNotFound,
    Forbidden,
    InvalidInput,
    InvalidSetting,
    SyncRunning,
)
from twostep.domain.ports.directory import DirectoryConnector
from twostep.domain.ports.storage import Transaction
from twostep.domain.sealing import directory_context
from twostep.services import admin_log
from twostep.services.admin import tenant_for
from twostep.services.context import Deps
from twostep.services.directory_progress import SyncRecord
from twostep.services.leases import LEASE_SECONDS, directory_lease

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
READER_SECONDS = 10.0  # how long a node reuses a directory's settings for password binds
# Settings that change who is in scope, or where the change counter comes from (each
# Active Directory domain controller counts its own): the next sync is a full one.
_SCOPE = ("kind", "urls", "base_dn", "user_filter", "mfa_group", "attributes")
_PASSWORD = "bind_password"  # noqa: S105 - a field name


@dataclass(frozen=True, slots=True)
class DirectoryView:
    directory: Directory
    bind_password_set: bool
    sync: SyncRecord | None  # the running or last sync
    sync_state: str | None  # running, done, failed, interrupted; None: never synced


@dataclass(frozen=True, slots=True)
class Reader:
    """What a password bind needs: the directory and its reading account's password."""

    directory: Directory
    password: str | None


@dataclass(frozen=True, slots=True)
class TestResult:
    users_in_scope: int
    seconds: float


def require_directory_admin(tx: Transaction, actor: AdminKey, tenant_name: str) -> Tenant:
    """The tenant, for an admin who may configure its directories (not a help desk)."""
    tenant = tenant_for(tx, actor, tenant_name)
    if actor.role not in (Role.GLOBAL_ADMIN, Role.TENANT_ADMIN):
        raise Forbidden("only an admin of the tenant may manage its directories")
    return tenant


def open_password(deps: Deps, tx: Transaction, directory_id: str) -> str | None:
    sealed = tx.directories.sealed_password(directory_id)
    if sealed is None:
        return None
    return deps.secrets.open(sealed, directory_context(directory_id)).decode()


def parse_settings(values: Mapping[str, Any]) -> DirectorySettings:
    """The settings, or InvalidSetting naming the first field that is wrong."""
    try:
        return DirectorySettings.model_validate(dict(values))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or None
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidSetting(f"{where or 'settings'}: {message}", field=where) from None


class DirectoryAdmin:
    def __init__(self, deps: Deps, connector: DirectoryConnector) -> None:
        self.deps = deps
        self.connector = connector
        self._readers: dict[str, tuple[float, Reader | None]] = {}
        self._lock = threading.Lock()

    def add(
        self,
        actor: AdminKey,
        tenant_name: str,
        name: str,
        values: Mapping[str, Any],
        position: int | None = None,
    ) -> DirectoryView:
        if not NAME.match(name):
            raise InvalidInput(
                "a directory name is 1-64 letters, digits, '.', '_' or '-'", field="name"
            )
        settings = self._checked(actor, parse_settings(values))
        password = settings.bind_password
        directory_id = "dir_" + secrets.token_hex(12)
        sealed = self._seal(directory_id, password.get_secret_value() if password else None)
        settings = settings.model_copy(update={_PASSWORD: None})
        with self.deps.storage.transaction(write=True) as tx:
            tenant = require_directory_admin(tx, actor, tenant_name)
            existing = tx.directories.list(tenant.id)
            if any(d.name == name for d in existing):
                raise DirectoryExists(f"directory {name!r} already exists")
            if position is None:
                position = max((d.position for d in existing), default=-1) + 1
            directory = Directory(
                id=directory_id,
                tenant_id=tenant.id,
                name=name,
                settings=settings,
                position=position,
                created_at=self.deps.clock.now(),
            )
            tx.directories.add(directory, sealed)
            after = {**_shown(settings), _PASSWORD: "set" if sealed else None}
            changed = admin_log.changes(None, after, secret=(_PASSWORD,))
            admin_log.record(tx, self.deps, actor, tenant, "directory.add", name, changed)
        return DirectoryView(directory, sealed is not None, None, None)

    def list(self, actor: AdminKey, tenant_name: str) -> list[DirectoryView]:
        with self.deps.storage.transaction() as tx:
            tenant = require_directory_admin(tx, actor, tenant_name)
            return [self._view(tx, d) for d in tx.directories.list(tenant.id)]

    def get(self, actor: AdminKey, tenant_name: str, name: str) -> DirectoryView:
        with self.deps.storage.transaction() as tx:
            tenant = require_directory_admin(tx, actor, tenant_name)
            return self._view(tx, _directory(tx, tenant, name))

    def update(
        self,
        actor: AdminKey,
        tenant_name: str,
        name: str,
        values: Mapping[str, Any],
        position: int | None = None,
    ) -> DirectoryView:
        """Change any of the settings (``attributes`` merged key by key); a
        ``bind_password`` of None removes the password (an anonymous reader)."""
        with self.deps.storage.transaction(write=True) as tx:
            tenant = require_directory_admin(tx, actor, tenant_name)
            directory = _directory(tx, tenant, name)
            before = _shown(directory.settings)
            merged: dict[str, Any] = {**before, **{k: v for k, v in values.items()}}
            if isinstance(values.get("attributes"), Mapping):
                merged["attributes"] = {**before["attributes"], **values["attributes"]}
            merged.pop(_PASSWORD, None)
            settings = parse_settings(merged)
            if settings.ca_file != directory.settings.ca_file:
                self._checked(actor, settings)
            else:
                self._checked(actor, settings.model_copy(update={"ca_file": None}))
            sealed = tx.directories.sealed_password(directory.id)
            had = sealed is not None
            if _PASSWORD in values:
                given = values[_PASSWORD]
                if given is not None and (not isinstance(given, str) or not given):
                    raise InvalidSetting(
                        "bind_password: a non-empty string, or null", field=_PASSWORD
                    )
                sealed = self._seal(directory.id, given)
            after = _shown(settings)
            scope_changed = any(before[k] != after[k] for k in _SCOPE)
            updated = replace(
                directory,
                settings=settings,
                position=directory.position if position is None else position,
                sync_cursor=None if scope_changed else directory.sync_cursor,
            )
            tx.directories.update(updated, sealed)
            changed = admin_log.changes(
                {**before, "position": directory.position, _PASSWORD: "set" if had else None},
                {
                    **after,
                    "position": updated.position,
                    _PASSWORD: ("new" if values.get(_PASSWORD) else None)
                    if _PASSWORD in values
                    else ("set" if had else None),
                },
                secret=(_PASSWORD,),
            )
            admin_log.record(tx, self.deps, actor, tenant, "directory.update", name, changed)
            view = self._view(tx, updated)
        self._forget(directory.id)
        return view

    def delete(self, actor: AdminKey, tenant_name: str, name: str) -> None:
        """Delete the directory; its users stay, as users made by hand (their methods too).
        Refused (sync_running) while a sync of it runs."""
        with self.deps.storage.transaction() as tx:
            tenant = require_directory_admin(tx, actor, tenant_name)
            directory = _directory(tx, tenant, name)
        lease = directory_lease(self.deps, directory.id)
        if not lease.take():
            raise SyncRunning("a sync of this directory is running; wait for it")
        try:
            with self.deps.storage.transaction(write=True) as tx:
                if tx.directories.by_id(directory.id) is None:
                    raise DirectoryNotFound(f"no directory {name!r}")
                tx.directories.delete(directory.id)
                changed = admin_log.changes(_shown(directory.settings), None)
                admin_log.record(tx, self.deps, actor, tenant, "directory.delete", name, changed)
        finally:
            lease.release()
        self._forget(directory.id)

    def test(self, actor: AdminKey, tenant_name: str, name: str) -> TestResult:
        """Bind as the reading account and count the users in scope (filter and MFA
        group); DirectoryUnavailable (502) when that cannot be done."""
        with self.deps.storage.transaction() as tx:
            tenant = require_directory_admin(tx, actor, tenant_name)
            directory = _directory(tx, tenant, name)
            password = open_password(self.deps, tx, directory.id)
        started = time.monotonic()
        conn = self.connector.connect(directory.settings, password)
        try:
            count = sum(1 for _ in conn.present())
        finally:
            conn.close()
        return TestResult(users_in_scope=count, seconds=round(time.monotonic() - started, 3))

    def reader(self, directory_id: str) -> Reader | None:
        """The directory and its reading password, for a password bind (None: deleted).
        Reused for READER_SECONDS per process: a changed setting reaches every node
        within that time."""
        now = time.monotonic()
        cached = self._readers.get(directory_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self.deps.storage.transaction() as tx:
            directory = tx.directories.by_id(directory_id)
            password = open_password(self.deps, tx, directory_id) if directory else None
        found = None if directory is None else Reader(directory, password)
        with self._lock:
            self._readers[directory_id] = (now + READER_SECONDS, found)
        return found

    # -- helpers --------------------------------------------------------------------------

    def _forget(self, directory_id: str) -> None:
        with self._lock:
            self._readers.pop(directory_id, None)

    def _seal(self, directory_id: str, password: str | None) -> bytes | None:
        if password is None:
            return None
        return self.deps.secrets.seal(password.encode(), directory_context(directory_id))

    def _checked(self, actor: AdminKey, settings: DirectorySettings) -> DirectorySettings:
        if settings.security is Security.PLAIN:
            for url in settings.urls:
                if not _loopback(url):
                    raise InvalidSetting(
                        f"security plain sends the password in the clear: only a server on "
                        f"loopback may use it ({url} is not); use starttls or ldaps",
                        field="security",
                    )
        if settings.ca_file is not None:
            # It names a file on this server: an operator's choice, not a tenant's.
            if actor.role is not Role.GLOBAL_ADMIN:
                raise Forbidden("only a global admin may set ca_file (a file on the server)")
            path = Path(settings.ca_file)
            if not path.is_absolute() or not path.is_file() or not os.access(path, os.R_OK):
                raise InvalidSetting(
                    "ca_file: an absolute path to a readable PEM file", field="ca_file"
                )
        return settings

    def _view(self, tx: Transaction, directory: Directory) -> DirectoryView:
        record = SyncRecord.loads(tx.directories.progress(directory.id))
        state = record.shown_state(self.deps.clock.now(), LEASE_SECONDS) if record else None
        has_password = tx.directories.sealed_password(directory.id) is not None
        return DirectoryView(directory, has_password, record, state)


def _directory(tx: Transaction, tenant: Tenant, name: str) -> Directory:
    found = tx.directories.by_name(tenant.id, name)
    if found is None:
        raise DirectoryNotFound(f"no directory {name!r}")
    return found


def _shown(settings: DirectorySettings) -> dict[str, Any]:
    return settings.model_dump(mode="json", exclude={_PASSWORD})


def _loopback(url: str) -> bool:
    rest = url.partition("://")[2]
    if rest.startswith("["):  # ldap://[::1]:389
        host = rest[1:].partition("]")[0]
    else:
        host = rest.rpartition(":")[0] if ":" in rest else rest
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
