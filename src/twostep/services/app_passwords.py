"""App passwords: for legacy clients (an IMAP mail client, an old VPN) that send a password
and cannot ask for a second factor. An admin (later the user, in the self-service pages)
creates one, named for the client it is for; it is shown once.

An app password is 24 characters from the base32 alphabet: 120 random bits, shown in six
groups of four (``abcd-efgh-ijkl-mnop-qrst-uvwx``); spaces, hyphens and case are ignored
when it is typed. It is stored as a SHA-256 digest: at 120 random bits a slow hash adds
nothing (finding an app password from its digest takes about 2**119 tries; argon2id
only slows the guessing of passwords people choose), so a check costs microseconds
however many app passwords a user has, and needs no server key, so it survives
secret-key rotation (a keyed digest would not). The tenant's ``app_passwords_allowed``
setting allows them; legacy integrations (and RADIUS clients in ``password_only`` mode)
accept them in place of password + second factor, and nothing else does: not the admin
API, not the pages.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace

from twostep.domain.entities import AdminKey, AppPassword, User
from twostep.domain.errors import (
    AppPasswordExists,
    AppPasswordNotFound,
    AppPasswordsNotAllowed,
    Conflict,
    InvalidInput,
)
from twostep.services import admin_log
from twostep.services.admin import tenant_for, user_for
from twostep.services.context import Deps

ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, lower case: 5 bits each
LENGTH = 24  # 120 bits
GROUP = 4
MAX_PER_USER = 20
MAX_NAME = 64
DOMAIN = b"twostep app password\x00"  # these digests are of app passwords, nothing else


@dataclass(frozen=True, slots=True)
class NewAppPassword:
    app_password: AppPassword
    password: str  # shown once, grouped for reading


def generate() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def canonical(typed: str) -> str | None:
    """What was typed, without spaces, hyphens and case; None if it cannot be one."""
    value = typed.replace("-", "").replace(" ", "").lower()
    if len(value) != LENGTH or any(c not in ALPHABET for c in value):
        return None
    return value


def digest(value: str) -> bytes:
    """The stored form of an app password (its canonical form)."""
    return hashlib.sha256(DOMAIN + value.encode("ascii")).digest()


def _name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable():
        raise InvalidInput(f"a name is 1-{MAX_NAME} printable characters", field="name")
    return name


class AppPasswordService:
    """Admins' use cases: create, list, delete one, delete all (a lost device)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def create(
        self, actor: AdminKey, tenant_name: str, user_name: str, name: str
    ) -> NewAppPassword:
        name = _name(name)
        password = generate()
        hashed = digest(canonical(password) or "")
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            if not tenant.settings.access.app_passwords_allowed:
                raise AppPasswordsNotAllowed(
                    f"tenant {tenant.name!r} does not allow app passwords "
                    "(setting app_passwords_allowed)"
                )
            user = user_for(tx, tenant, user_name)
            mine = tx.app_passwords.of_user(user.id)
            if any(found.name == name for found, _hash in mine):
                raise AppPasswordExists(f"{user.name} already has an app password named {name!r}")
            if len(mine) >= MAX_PER_USER:
                raise Conflict(f"a user has at most {MAX_PER_USER} app passwords")
            made = AppPassword(
                id=secrets.token_hex(8),
                tenant_id=tenant.id,
                user_id=user.id,
                name=name,
                created_at=now,
            )
            tx.app_passwords.add(made, hashed)
            admin_log.record(
                tx,
                self.deps,
                actor,
                tenant,
                "app_password.create",
                f"{user.name}/{made.id}",
                {"name": [None, name]},
            )
        return NewAppPassword(made, password)

    def list(self, actor: AdminKey, tenant_name: str, user_name: str) -> Sequence[AppPassword]:
        with self.deps.storage.transaction() as tx:
            user = user_for(tx, tenant_for(tx, actor, tenant_name), user_name)
            return [found for found, _hash in tx.app_passwords.of_user(user.id)]

    def delete(
        self, actor: AdminKey, tenant_name: str, user_name: str, app_password_id: str
    ) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            if not tx.app_passwords.delete(user.id, app_password_id):
                raise AppPasswordNotFound(f"{user.name} has no app password {app_password_id!r}")
            admin_log.record(
                tx,
                self.deps,
                actor,
                tenant,
                "app_password.delete",
                f"{user.name}/{app_password_id}",
            )

    def delete_all(self, actor: AdminKey, tenant_name: str, user_name: str) -> int:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            count = tx.app_passwords.delete_all(user.id)
            admin_log.record(
                tx,
                self.deps,
                actor,
                tenant,
                "app_password.delete_all",
                user.name,
                {"app_passwords": [count, 0]},
            )
        return count


class AppPasswordCheck:
    """The sign-in's side: does this password match one of the user's app passwords?
    Every stored digest is compared in constant time, and all of them, whichever matches."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def find(self, user: User | None, typed: str, now: float) -> AppPassword | None:
        value = canonical(typed)
        if user is None or value is None:
            return None
        with self.deps.storage.transaction() as tx:
            stored = tx.app_passwords.of_user(user.id)
        wanted = digest(value)
        found = None
        for app_password, kept in stored:
            if hmac.compare_digest(kept, wanted) and found is None:
                found = app_password
        if found is not None:
            with self.deps.storage.transaction(write=True) as tx:
                tx.app_passwords.used(found.id, now)
            found = replace(found, last_used_at=now)
        return found
