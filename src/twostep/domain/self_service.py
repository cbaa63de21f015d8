"""The self-service portal's own records: one-time enrollment links and "not me" reports,
and why a user must register before anything else."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RegistrationReason(StrEnum):
    """Why a user must register a method before anything else (the sign-in answers the
    reason of the same name)."""

    NO_METHOD_REGISTERED = "no_method_registered"  # MFA enabled, nothing registered yet
    REGISTRATION_REQUIRED = "registration_required"  # an admin asked them to register again
    # The tenant's registration policy covers one of their groups and they have no method of
    # the kinds it asks for (services/policy.py): the sign-in refuses until they register one.
    REGISTRATION_POLICY = "registration_policy"


@dataclass(frozen=True, slots=True)
class EnrollmentLink:
    """A link an admin sends to a user with no method yet. The token is not here: it was
    shown once; the store keeps its SHA-256."""

    id: str
    tenant_id: int
    user_id: int
    created_at: float
    expires_at: float
    created_by: str  # the admin's key id ("operator": the CLI)
    used_at: float | None = None
    revoked_at: float | None = None

    def status(self, now: float) -> str:
        """``used``, ``revoked``, ``expired`` or ``open``."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "open"


@dataclass(frozen=True, slots=True)
class SignInReport:
    """A user's "not me" about one of their audit events."""

    event_id: str
    tenant_id: int
    user_id: int
    reported_at: float
    client_ip: str | None = None
