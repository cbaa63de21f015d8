"""Challenges: pending out-of-band verifications that any node can finish."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from twostep.domain.entities import MethodKind, Tenant, User


class ChallengeState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Challenge:
    id: str  # the transaction id handed to the integration
    tenant_id: int
    user_id: int
    method_id: str
    kind: MethodKind
    state: ChallengeState
    max_attempts: int
    created_at: float
    expires_at: float
    last_sent_at: float
    interface: str = "http"
    reason: str | None = None
    code_hash: bytes | None = None  # keyed digest of the code sent; never the code
    attempts: int = 0
    finished_at: float | None = None
    destination: str | None = None  # E.164 the text or call went to
    integration: str | None = None
    client_ip: str | None = None
    sends: int = 1
    gateway: str | None = None  # the gateway that delivered it
    device_id: str | None = None  # app_push: the device asked
    number: int | None = None  # app_push: the number to match, shown on the sign-in page
    nonce: str | None = None  # app_push: carried by the device's signed answer
    message: str | None = None  # app_push: the tenant's text shown on the device
    reported_at: float | None = None  # when a fraud report was recorded (at most once)
    state_used_at: float | None = None  # when a RADIUS request carried it as its State

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True, slots=True)
class Parties:
    """A challenge with its tenant and user: what every answer to it needs, read at once."""

    challenge: Challenge
    tenant: Tenant
    user: User
