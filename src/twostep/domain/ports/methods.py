"""Methods: a user's registered ways to verify, their one-time claims, and the tenant's
pool of hardware tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from twostep.domain.entities import (
    Method,
    MethodKind,
    MethodStatus,
    OtpParams,
)


@dataclass(frozen=True, slots=True)
class NewMethod:
    id: str
    user_id: int | None
    tenant_id: int
    kind: MethodKind
    status: MethodStatus
    sealed_seed: bytes | None
    otp: OtpParams | None
    label: str | None = None
    serial: str | None = None
    counter: int = 0
    drift: int = 0  # TOTP: steps the token's clock is off (a vendor's TimeDrift)
    manufacturer: str | None = None
    model: str | None = None
    valid_from: float | None = None
    valid_until: float | None = None
    phone: str | None = None
    extension: str | None = None  # the phone's extension, dialled once a call is answered
    email: str | None = None
    sealed_pin: bytes | None = None  # voice: the PIN, sealed to the method id
    device_id: str | None = None


class OneTimeClaims(Protocol):
    """A code's one-time use, decided by the database in one conditional update."""

    def claim_step(self, method_id: str, step: int, now: float) -> bool:
        """Record TOTP step ``step`` as used if no later or equal step was and the user
        is not locked at ``now``: one-time use decided by the database in one conditional
        update, so two nodes cannot both win."""
        ...

    def claim_counter(self, method_id: str, matched: int, now: float) -> bool:
        """Advance the HOTP counter past ``matched`` if it has not passed it yet and the
        user is not locked at ``now``."""
        ...


class SealedSecrets(Protocol):
    """A method's sealed seed or PIN, read only by the step that needs it."""

    def sealed_seed(self, method_id: str) -> bytes | None: ...

    def sealed_pin(self, method_id: str) -> bytes | None: ...


class MethodRepo(OneTimeClaims, SealedSecrets, Protocol):
    def add(self, method: NewMethod, now: float) -> Method: ...

    def by_id(self, user_id: int, method_id: str) -> Method | None: ...

    def for_user(self, user_id: int) -> Sequence[Method]: ...

    def activate(self, method_id: str, now: float) -> bool: ...

    def delete(self, method_id: str) -> None: ...

    def delete_for_device(self, device_id: str) -> None:
        """The app_push and app_code methods a device's activation gave."""
        ...

    def serial_in_use(self, tenant_id: int, serial: str) -> bool: ...

    def resync(
        self, method_id: str, *, counter: int | None, drift: int | None, step: int | None
    ) -> None: ...

    def purge_pending(self, before: float) -> int: ...


class TokenPoolRepo(Protocol):
    """A tenant's pool of hardware tokens (methods of one ``kind``, with or without a user)."""

    def add_many(self, methods: Sequence[NewMethod], now: float) -> None: ...

    def by_serial(self, tenant_id: int, kind: str) -> Mapping[str, Method]:
        """Every stored token of the tenant by serial (for an import's duplicate check)."""
        ...

    def find(self, tenant_id: int, kind: str, serial: str) -> Method | None: ...

    def page(
        self,
        tenant_id: int,
        kind: str,
        *,
        assigned: bool | None = None,
        manufacturer: str | None = None,
        serial_prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Sequence[Method]: ...

    def assign(self, method_id: str, user_id: int, now: float) -> bool:
        """Give an unassigned token to a user (conditional: two admins cannot both win)."""
        ...

    def unassign(self, method_id: str) -> bool: ...

    def set_status(self, method_id: str, status: MethodStatus) -> None: ...

    def replace(self, method_id: str, method: NewMethod) -> bool:
        """Replace the seed and parameters of a token still in the pool (an import with
        update); False if it is no longer there."""
        ...
