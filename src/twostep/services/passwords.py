"""Local primary passwords: set and cleared by admins, checked by the sign-in flow
(services/signin.py) through the PrimaryPasswords port.

A password is stored as an argon2id hash (argon2-cffi) and checked with argon2's own
verify, which compares in constant time. A user without a password, or an unknown user,
costs the same verification against a dummy hash, so the answer's timing does not tell
which users exist.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from twostep.domain.entities import AdminKey, Tenant, User
from twostep.domain.errors import InvalidInput
from twostep.domain.ports.users import PasswordCheck, Verdict
from twostep.services import admin_log
from twostep.services.admin import tenant_for, user_for
from twostep.services.context import Deps

# OWASP's argon2id floor (19 MiB, 2 passes, 1 lane): ~25 ms here. A RADIUS request may try
# a few splits of password and code, and each worker runs these in a small thread pool.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 8
MAX_LENGTH = 100  # RADIUS carries at most 128 octets: the password, the code and a comma
CODE_LENGTHS = (6, 8)


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash("twostep: a user without a password")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Argon2's verify (constant-time); a missing hash costs the same as a wrong one."""
    try:
        return HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(f"a password is {MIN_LENGTH}-{MAX_LENGTH} characters", field="password")
    if not password.isprintable():
        raise InvalidInput("a password has no control characters", field="password")


def split_candidates(value: str, lengths: Iterable[int]) -> list[tuple[str, str | None]]:
    """The ways ``value`` may be a password with a code: ``password,code`` (the part after
    the last comma: digits, or a method's name such as ``push``), then ``password`` with the
    code appended (its last 6 or 8 digits, per the user's methods), then the password alone.
    """
    found: list[tuple[str, str | None]] = []
    head, comma, tail = value.rpartition(",")
    word = tail.isascii() and (tail.isdigit() or tail.isalpha()) and len(tail) <= 16
    if comma and head and tail and word:
        found.append((head, tail))
    for n in sorted(set(lengths), reverse=True):
        code = value[-n:]
        if len(value) > n and code.isascii() and code.isdigit():
            found.append((value[:-n], code))
    found.append((value, None))
    unique: list[tuple[str, str | None]] = []
    for pair in found:
        if pair not in unique:
            unique.append(pair)
    return unique


class LocalPasswords:
    """Implements :class:`twostep.domain.ports.PrimaryPasswords` with Twostep's own
    argon2id hashes. A few checks at once per process: each takes 19 MiB and tens of
    milliseconds, and a burst of them must not starve the codes."""

    def __init__(self, deps: Deps, at_once: int = 2) -> None:
        self.deps = deps
        self._slots = threading.BoundedSemaphore(at_once)

    def check(
        self, tenant: Tenant, user: User | None, stored: str | None, password: str
    ) -> PasswordCheck:
        with self._slots:
            ok = verify_password(stored, password)  # a missing hash costs the same work
        if stored is None or user is None:  # nothing to check against (an unknown user too)
            return PasswordCheck(Verdict.NONE)
        if ok and HASHER.check_needs_rehash(stored):
            hashed = hash_password(password)
            with self.deps.storage.transaction(write=True) as tx:
                tx.passwords.set(user.id, hashed)
        return PasswordCheck(Verdict.MATCH if ok else Verdict.WRONG)


class PasswordService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def set_password(self, actor: AdminKey, tenant_name: str, user: str, password: str) -> None:
        check_new_password(password)
        hashed = hash_password(password)  # outside the transaction: it takes a while
        self._set(actor, tenant_name, user, hashed, "password.set")

    def clear_password(self, actor: AdminKey, tenant_name: str, user: str) -> None:
        self._set(actor, tenant_name, user, None, "password.clear")

    def _set(
        self, actor: AdminKey, tenant_name: str, user: str, hashed: str | None, action: str
    ) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            found = user_for(tx, tenant, user)
            had = tx.passwords.get(found.id)
            tx.passwords.set(found.id, hashed)
            # Whether one is set, before and after ("***"): never the password, nor its hash.
            changed = admin_log.changes(
                {"password": had}, {"password": hashed}, secret=["password"]
            )
            admin_log.record(tx, self.deps, actor, tenant, action, found.name, changed)
