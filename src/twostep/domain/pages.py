"""The pages' own records: admin grants (a user's role at the management portal) and page
sessions (server-side; the cookie holds a random token, the store only its SHA-256)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from twostep.domain.entities import Role


@dataclass(frozen=True, slots=True)
class AdminGrant:
    """``user`` of ``tenant`` may sign in to the management portal as ``role`` over
    ``scope`` (a tenant's name; None for a global admin)."""

    id: str
    tenant_id: int  # the user's own tenant
    user_id: int
    role: Role
    scope_tenant_id: int | None
    created_at: float
    tenant: str = ""  # names, for display
    user: str = ""
    scope: str | None = None


class Stage(StrEnum):
    SECOND_FACTOR = "second_factor"  # the password was right; the second factor is next
    SIGNED_IN = "signed_in"


@dataclass(frozen=True, slots=True)
class PageSession:
    id: str  # SHA-256 (hex) of the cookie's token
    tenant_id: int
    user_id: int
    stage: Stage
    created_at: float
    last_seen_at: float
    idle_seconds: int
    expires_at: float  # absolute
    role: Role | None = None
    scope_tenant_id: int | None = None
    revoked_at: float | None = None
    client_ip: str | None = None
    data: str | None = None  # JSON: the sign-in in progress (SECOND_FACTOR)
    # Read with the session, for the pages: the user's and tenant's names, the user's language.
    tenant: str = ""
    user: str = ""
    language: str | None = None

    def live(self, now: float) -> bool:
        """Not revoked, not past its absolute expiry, used within its idle time."""
        return (
            self.revoked_at is None
            and now < self.expires_at
            and now - self.last_seen_at < self.idle_seconds
        )
