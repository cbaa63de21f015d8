"""Remembered browsers at the hosted sign-in page and the self-service portal
(domain/remembered.py): remembered after a second factor when the user asks, checked at
the next sign-in on that page, revoked by the user (/my), an admin, or a re-registration.

The cookie is ``<id>.<secret>``: a public id and 256 random bits. The server keeps the
secret's keyed digest (HMAC under a key derived from the server's secret key, bound to the
id), so the cookie is as good as signed: only this server can tell a right one, a
database copy cannot make one, and a row deleted revokes it. The check compares in
constant time and enforces, server-side, the tenant, the user, the page, the expiry and
the tenant's setting; a cookie that fails says only "no" (the sign-in asks the factor).
"""

from __future__ import annotations

import logging
import re
import secrets

from twostep.domain.entities import AdminKey
from twostep.domain.errors import Forbidden, RememberedDeviceNotFound
from twostep.domain.permissions import Permission, allows
from twostep.domain.remembered import Page, RememberedDevice
from twostep.services import admin_log
from twostep.services.admin import tenant_for, user_for
from twostep.services.context import Deps

log = logging.getLogger("twostep.pages")

COOKIE = "twostep_device"
DAY = 24 * 3600
_COOKIE = re.compile(r"([0-9a-f]{32})\.([A-Za-z0-9_-]{43})")
_LABEL = 128


def _context(device_id: str) -> str:
    return f"remembered-device:{device_id}"


class RememberedDevices:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # -- the pages ---------------------------------------------------------------------

    def remember(
        self, tenant_id: int, user_id: int, page: Page, label: str | None
    ) -> tuple[str, int] | None:
        """A new remembered browser of this user at ``page``: the cookie's value and its
        lifetime in seconds; None when the tenant does not remember browsers."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tx.tenants.by_id(tenant_id)
            if tenant is None or not tenant.settings.pages.remember_device_enabled:
                return None
            seconds = tenant.settings.pages.remember_device_days * DAY
            device_id, secret = secrets.token_hex(16), secrets.token_urlsafe(32)
            digest = self.deps.secrets.digest(secret.encode(), _context(device_id))
            device = RememberedDevice(
                id=device_id,
                tenant_id=tenant_id,
                user_id=user_id,
                page=page,
                created_at=now,
                expires_at=now + seconds,
                label=(label or "")[:_LABEL] or None,
            )
            tx.remembered_devices.add(device, digest)
        return f"{device_id}.{secret}", seconds

    def check(self, cookie: str | None, tenant_id: int, user_id: int, page: Page) -> bool:
        """True when ``cookie`` is a live remembered browser of exactly this user, tenant
        and page, and the tenant still remembers browsers."""
        match = _COOKIE.fullmatch(cookie or "")
        if match is None:
            return False
        device_id, secret = match.groups()
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            found = tx.remembered_devices.find(device_id)
            tenant = tx.tenants.by_id(tenant_id)
            if found is None or tenant is None:
                return False
            device, digest = found
            right = self.deps.secrets.digest_matches(digest, secret.encode(), _context(device_id))
            if not (
                right
                and device.tenant_id == tenant_id
                and device.user_id == user_id
                and device.page == page
                and now < device.expires_at
                and tenant.settings.pages.remember_device_enabled
            ):
                return False
            tx.remembered_devices.used(device_id, now)
        return True

    # -- the user's own (/my) ----------------------------------------------------------

    def of_user(self, user_id: int) -> list[RememberedDevice]:
        with self.deps.storage.transaction() as tx:
            return list(tx.remembered_devices.for_user(user_id, self.deps.clock.now()))

    def forget(self, user_id: int, device_id: str | None = None) -> int:
        """The user revokes one remembered browser (``device_id``) or all of them."""
        with self.deps.storage.transaction(write=True) as tx:
            if device_id is None:
                return tx.remembered_devices.delete_for_user(user_id)
            return int(tx.remembered_devices.delete(user_id, device_id))

    # -- admins ------------------------------------------------------------------------

    def list_for(self, actor: AdminKey, tenant_name: str, user_name: str) -> list[RememberedDevice]:
        _may(actor, Permission.USERS_READ)
        with self.deps.storage.transaction() as tx:
            user = user_for(tx, tenant_for(tx, actor, tenant_name), user_name)
            return list(tx.remembered_devices.for_user(user.id, self.deps.clock.now()))

    def revoke(
        self, actor: AdminKey, tenant_name: str, user_name: str, device_id: str | None = None
    ) -> int:
        """An admin revokes one of the user's remembered browsers, or all (None); how many
        went. Recorded in the admin audit trail. Like signing a user out of the pages
        (sessions.revoke): the help desk may."""
        _may(actor, Permission.SESSIONS_REVOKE)
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            if device_id is None:
                gone = tx.remembered_devices.delete_for_user(user.id)
            elif tx.remembered_devices.delete(user.id, device_id):
                gone = 1
            else:
                raise RememberedDeviceNotFound(f"no remembered device {device_id[:64]!r}")
            changed = {"remembered_devices": [gone, 0]}
            target = user.name if device_id is None else f"{user.name}/{device_id}"
            admin_log.record(
                tx, self.deps, actor, tenant, "remembered_device.revoke", target, changed
            )
        return gone


def _may(actor: AdminKey, permission: Permission) -> None:
    if not allows(actor.role, permission):
        raise Forbidden(f"this role may not {permission.value}")
