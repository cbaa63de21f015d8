"""What a migration from another MFA server reads and writes in bulk: the tenant's
methods and token seeds in one read each, and new users in one statement per batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from twostep.domain.entities import Method, MfaState


@dataclass(frozen=True, slots=True)
class MigratedUser:
    """A user as a migration creates them, their default and marks already decided."""

    name: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    mfa: MfaState = MfaState.ENABLED
    groups: tuple[str, ...] = ()
    default_method_id: str | None = None
    registration_required_at: float | None = None


class MigrationRepo(Protocol):
    def add_users(self, tenant_id: int, users: Sequence[MigratedUser], now: float) -> list[int]:
        """Insert the users; their ids, in the order given."""
        ...

    def methods_by_user(self, tenant_id: int) -> Mapping[int, Sequence[Method]]:
        """Every method of the tenant's users, by user id (pooled tokens left out)."""
        ...

    def sealed_seeds(self, tenant_id: int, kind: str) -> Mapping[str, bytes]:
        """The sealed seeds of the tenant's methods of ``kind``, by method id."""
        ...
