"""Challenges (pending out-of-band verifications), the delivery limits they count
against, and waiting for their decision on any node."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from twostep.domain.challenges import Challenge, ChallengeState, Parties


class ChallengeRepo(Protocol):
    """Pending out-of-band verifications. Every change that decides an outcome is one
    conditional update on a pending row, so two nodes cannot both finish a challenge."""

    def add(self, challenge: Challenge) -> None: ...

    def get(self, challenge_id: str) -> Challenge | None: ...

    def accept(self, challenge_id: str, now: float, *, attempt: bool) -> bool:
        """Pending, unexpired, its user not locked and (with ``attempt``) under its attempt
        budget -> accepted, in one statement; ``attempt`` counts the submission as one of
        the attempts."""
        ...

    def fail_attempt(self, challenge_id: str, now: float) -> Challenge | None:
        """Count a wrong code on a pending, unexpired challenge; reject it when that spends
        the budget. Returns the challenge after the change, or None if it was not pending."""
        ...

    def decide(
        self, challenge_id: str, state: ChallengeState, reason: str | None, now: float
    ) -> bool:
        """Pending and unexpired -> ``state``: an answer deciding; False if another answer
        decided first or the challenge expired."""
        ...

    def report(self, challenge_id: str, now: float) -> bool:
        """Record a fraud report; False if one was recorded before (one alert per challenge)."""
        ...

    def use_state(self, challenge_id: str, now: float) -> bool:
        """Mark the challenge's RADIUS State used; False if a request carried it before."""
        ...

    def release_state(self, challenge_id: str) -> None:
        """The State may be sent once more (the same challenge was asked again)."""
        ...

    def finish(
        self, challenge_id: str, state: ChallengeState, reason: str | None, now: float
    ) -> bool:
        """Pending -> ``state``, expired or not (the expiry itself, a failed delivery); False
        if another node finished it first."""
        ...

    def delivered(self, challenge_id: str, gateway: str) -> None: ...

    def resend(
        self,
        challenge_id: str,
        code_hash: bytes | None,
        now: float,
        interval: int,
        max_sends: int,
        new_code: bool = True,
    ) -> bool:
        """Record one more send (with a new code) if pending, unexpired, not sent within
        ``interval`` seconds and sent fewer than ``max_sends`` times. ``new_code`` False (a
        call placed again): the code and the count of tries (PINs) stay as they are."""
        ...

    def pending_for(
        self, tenant_ids: Sequence[int] | None, destination: str, kinds: Sequence[str]
    ) -> Sequence[Challenge]:
        """Pending challenges of these kinds sent to ``destination``, newest first."""
        ...

    def latest_for(
        self, tenant_ids: Sequence[int] | None, destination: str, kinds: Sequence[str]
    ) -> Challenge | None:
        """The newest challenge of these kinds sent to ``destination``, whatever its state."""
        ...

    def states(self, challenge_ids: Sequence[str]) -> Mapping[str, tuple[ChallengeState, float]]:
        """State and expiry of each challenge found (one statement, for long-poll waiters)."""
        ...

    def pending_of_user(self, user_id: int, now: float) -> Sequence[str]:
        """The ids of the user's pending, unexpired challenges (any kind)."""
        ...

    def pending_for_device(self, device_id: str, now: float) -> Sequence[Challenge]:
        """Unanswered, unexpired push requests to the device, oldest first."""
        ...

    def devices_with_pending(self, device_ids: Sequence[str], now: float) -> set[str]:
        """Which of these devices have a pending request (one statement, for waiters)."""
        ...

    def pending_count(self, user_id: int, kind: str, now: float) -> int:
        """The user's unanswered, unexpired challenges of ``kind``."""
        ...

    def denials_since(self, user_id: int, kind: str, since: float) -> tuple[int, float | None]:
        """Challenges of ``kind`` the user denied since ``since``, and when the last was."""
        ...

    def with_parties(self, challenge_id: str) -> Parties | None:
        """The challenge with its tenant and user, in one read."""
        ...

    def overdue(self, now: float, limit: int) -> Sequence[Parties]:
        """Pending challenges past their expiry, oldest first, with their tenants and users
        (for the expiry sweep)."""
        ...

    def purge(self, before: float) -> int:
        """Delete challenges that expired before ``before``."""
        ...


class DeliveryRepo(Protocol):
    def reserve(
        self,
        tenant_id: int,
        user_id: int,
        channel: str,
        now: float,
        window: int,
        user_limit: int,
        tenant_limit: int | None,
    ) -> str | None:
        """Count one text or call against the user's and the tenant's sliding windows,
        unless either is full; returns "user" or "tenant" for the limit that refused
        (``tenant_limit`` None: no tenant-wide limit).
        Serialised per tenant, so the limits hold with several nodes."""
        ...

    def release(self, user_id: int, at: float) -> None:
        """Give back a reservation whose text or call could not be delivered."""
        ...


DEVICE_KEY = "device:"  # a device's key in Waits: ready when it has a pending request


def device_key(device_id: str) -> str:
    return DEVICE_KEY + device_id


class Waits(Protocol):
    """Waiting until something this node may not see happen is ready (a challenge decided
    on any node, keyed by its transaction id; a device's new request, keyed by
    ``device_key``): a decision here wakes its waiters at once, the database tells about
    the others."""

    def wait(self, key: str, timeout: float) -> None:
        """Return when ``key`` is ready, or after ``timeout`` seconds (blocking)."""
        ...

    def notify(self, key: str) -> None:
        """``key`` is ready now, decided on this node: wake its waiters."""
        ...
