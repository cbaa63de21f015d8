"""Local primary passwords, for RADIUS clients in the password+code mode.

A password is stored as an argon2id hash (argon2-cffi) and checked with argon2's own
verify, which compares in constant time. A user without a password, or an unknown user,
costs the same verification against a dummy hash, so the answer's timing does not tell
which users exist.

``check_primary`` is one attempt's first step: a wrong password writes the attempt's one
audit event (reason ``invalid_password``) and counts toward the same lockout as a wrong
code; a right one hands the code on to the validate use case, which writes the event.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from twostep.domain.entities import AdminKey, Integration, MethodStatus, User
from twostep.domain.errors import InvalidInput, TenantNotFound
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.services.admin import tenant_for, user_for
from twostep.services.audit import new_event
from twostep.services.context import Deps
from twostep.services.lockout import count_failure

# OWASP's argon2id floor (19 MiB, 2 passes, 1 lane): ~25 ms here. A RADIUS request may try
# a few splits of password and code, and each worker runs these in a small thread pool.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 8
MAX_LENGTH = 100  # RADIUS carries at most 128 octets: the password, the code and a comma
INVALID_PASSWORD = "invalid_password"  # noqa: S105 - the audit reason of a wrong primary password
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


@dataclass(frozen=True, slots=True)
class PrimaryRequest:
    integration: Integration
    user: str
    value: str  # what the user typed: password and code together
    client_ip: str | None = None
    interface: str = "radius"


@dataclass(frozen=True, slots=True)
class PrimaryOutcome:
    """``passed``: the password matched and ``code`` (None: none given) goes on to
    validation. Otherwise ``decision`` is the answer, already written to the audit log."""

    passed: bool
    code: str | None = None
    decision: Decision | None = None


class PasswordService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def set_password(self, actor: AdminKey, tenant_name: str, user: str, password: str) -> None:
        check_new_password(password)
        hashed = hash_password(password)  # outside the transaction: it takes a while
        with self.deps.storage.transaction(write=True) as tx:
            found = user_for(tx, tenant_for(tx, actor, tenant_name), user)
            tx.passwords.set(found.id, hashed)

    def clear_password(self, actor: AdminKey, tenant_name: str, user: str) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            found = user_for(tx, tenant_for(tx, actor, tenant_name), user)
            tx.passwords.set(found.id, None)

    def check_primary(self, request: PrimaryRequest) -> PrimaryOutcome:
        """Blocking and slow (argon2): call it from a worker thread."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            found = tx.subjects.load(request.user, tenant_id=request.integration.tenant_id)
            if found is None:
                raise TenantNotFound()
            user = found.user
            stored = tx.passwords.get(user.id) if user is not None else None
        tenant, settings = found.tenant, found.tenant.settings
        if user is not None and user.is_locked(now):
            decision = Decision(Result.REJECT, Reason.USER_LOCKED)
            self._audit(tenant.id, tenant.name, settings, request, user, now, "user_locked")
            return PrimaryOutcome(False, decision=decision)
        lengths = {
            m.otp.digits
            for m in found.methods
            if m.otp is not None and m.status is MethodStatus.ACTIVE
        }
        for password, code in split_candidates(request.value, lengths or CODE_LENGTHS):
            if verify_password(stored, password):
                if stored is not None and HASHER.check_needs_rehash(stored) and user:
                    self._rehash(user.id, password)
                return PrimaryOutcome(True, code=code)
        self._audit(
            tenant.id, tenant.name, settings, request, user, now, INVALID_PASSWORD, count=True
        )
        return PrimaryOutcome(False, decision=Decision(Result.REJECT, Reason.INVALID_CODE))

    def check_forwarded(self, request: PrimaryRequest) -> PrimaryOutcome:
        """The primary password a NAS forwards in RADIUS challenge mode: ``request.value``
        is the password alone. Checked when the user has one to check it against (a wrong
        one is audited and counts toward lockout); a user without one passes, since
        nothing here can check it (the NAS's own sign-in did). The same argon2 work either
        way, so the timing does not tell which users have a password. Blocking and slow."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            found = tx.subjects.load(request.user, tenant_id=request.integration.tenant_id)
            if found is None:
                raise TenantNotFound()
            user = found.user
            stored = tx.passwords.get(user.id) if user is not None else None
        tenant, settings = found.tenant, found.tenant.settings
        if verify_password(stored, request.value) or stored is None:
            if stored is not None and HASHER.check_needs_rehash(stored) and user:
                self._rehash(user.id, request.value)
            return PrimaryOutcome(True)
        if user is not None and user.is_locked(now):
            self._audit(tenant.id, tenant.name, settings, request, user, now, "user_locked")
            return PrimaryOutcome(False, decision=Decision(Result.REJECT, Reason.USER_LOCKED))
        self._audit(
            tenant.id, tenant.name, settings, request, user, now, INVALID_PASSWORD, count=True
        )
        return PrimaryOutcome(False, decision=Decision(Result.REJECT, Reason.INVALID_CODE))

    def _rehash(self, user_id: int, password: str) -> None:
        hashed = hash_password(password)
        with self.deps.storage.transaction(write=True) as tx:
            tx.passwords.set(user_id, hashed)

    def _audit(
        self,
        tenant_id: int,
        tenant: str,
        settings: TenantSettings,
        request: PrimaryRequest,
        user: User | None,
        now: float,
        reason: str,
        *,
        count: bool = False,
    ) -> None:
        """The attempt's one audit event and, with ``count``, one failure toward lockout,
        in one write transaction."""
        event = replace(
            new_event(
                self.deps.node,
                now,
                tenant,
                settings,
                request.user,
                user,
                integration=request.integration.name,
                client_ip=request.client_ip,
                interface=request.interface,
            ),
            result=Result.REJECT.value,
            reason=reason,
        )
        with self.deps.storage.transaction(write=True) as tx:
            if count and user is not None:
                count_failure(tx, user, now, settings)
            tx.audit.add(tenant_id, event)
