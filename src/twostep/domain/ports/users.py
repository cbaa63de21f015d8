"""Users: their records, their lockout counters, their primary passwords."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from twostep.domain.entities import (
    MfaState,
    Tenant,
    User,
)


@dataclass(frozen=True, slots=True)
class NewUser:
    name: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mfa: MfaState = MfaState.ENABLED
    language: str | None = None


class Lockout(Protocol):
    """A user's failure count and lock, changed by one atomic statement each, so failures
    on every node count."""

    def record_failure(
        self, user_id: int, now: float, max_failures: int, lock_until: float
    ) -> bool:
        """Count one failure atomically; lock when the count reaches ``max_failures``.
        Returns True when this failure locked the user."""
        ...

    def reset_failures_unless_locked(self, user_id: int, now: float) -> bool:
        """Clear the failure count in one conditional update; False if the user is locked."""
        ...

    def forgive_failure(self, user_id: int, now: float) -> None:
        """Take back one counted failure (a challenge that never reached the user),
        unless the user is locked."""
        ...

    def lock(self, user_id: int, until: float) -> None:
        """Lock the user until ``until`` (a fraud report), whatever the failure count."""
        ...

    def locked(self, user_id: int, now: float) -> bool: ...


class Bypasses(Protocol):
    """A user's one-time bypass: granted by an admin for a window, used by one sign-in."""

    def grant_bypass(self, user_id: int, until: float) -> None: ...

    def cancel_bypass(self, user_id: int, now: float) -> bool:
        """Clear a bypass still open at ``now``; False when there was none."""
        ...

    def claim_bypass(self, user_id: int, tenant_id: int, now: float) -> bool:
        """Use the bypass in one conditional update: True for exactly one caller while it
        is open, for a user of ``tenant_id`` neither locked nor disabled at ``now``."""
        ...


class SignInUsers(Lockout, Bypasses, Protocol):
    """What the sign-in flow may do to a user: count failures, use a bypass."""


class UserFinder(Protocol):
    def by_name(self, tenant_id: int, name: str) -> User | None:
        """The user by any case, width or normalisation of the name (its lookup key)."""
        ...

    def by_id(self, user_id: int) -> User | None: ...


class UserRepo(Lockout, Bypasses, UserFinder, Protocol):
    def add(self, tenant_id: int, user: NewUser, now: float) -> User: ...

    def list(self, tenant_id: int, after: str | None, limit: int) -> Sequence[User]: ...

    def update(self, user: User) -> None: ...

    def delete(self, user_id: int) -> None: ...

    def set_default_method(self, user_id: int, method_id: str | None) -> None: ...

    def registered(self, user_id: int, method_id: str) -> None:
        """A first method becomes the default (if the user has none) and an ``enabled``
        user becomes ``enforced``: conditional updates, so racing registrations agree."""
        ...

    def unlock(self, user_id: int) -> None: ...

    def require_registration(self, user_id: int, now: float) -> None:
        """Mark the user as having to register again (and clear their default method)."""
        ...

    def set_disabled(self, user_id: int, at: float | None, reason: str | None) -> bool:
        """Disable (``at`` set) or enable (``at`` None) the user: one conditional update;
        False when the user already was so."""
        ...

    def set_groups(self, user_id: int, groups: Sequence[str]) -> None: ...


class PasswordRepo(Protocol):
    """Users' local primary passwords (argon2id hashes), for RADIUS password+code."""

    def get(self, user_id: int) -> str | None: ...

    def set(self, user_id: int, password_hash: str | None) -> None: ...


class Verdict(StrEnum):
    """What a primary-password check found."""

    MATCH = "match"
    WRONG = "wrong"
    NONE = "none"  # nothing to check against: the user has no password here (or is unknown)
    UNAVAILABLE = "unavailable"  # the directory did not answer: the caller fails closed


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    verdict: Verdict
    detail: str | None = None  # why it is UNAVAILABLE (the server's error; never the password)


class PrimaryPasswords(Protocol):
    """Where a user's primary password is checked: Twostep's own (argon2id), or a bind to
    the directory the user came from, behind the same call."""

    def check(
        self, tenant: Tenant, user: User | None, stored: str | None, password: str
    ) -> PasswordCheck:
        """An unknown user (``None``) costs the same work as a known one, and is NONE."""
        ...
