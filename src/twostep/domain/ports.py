"""Ports: the small Protocols the services need from the outside world.

Adapters implement them; services receive them from bootstrap.py. Every storage
call happens inside a ``Transaction`` so a use case decides where its unit of
work begins and ends (one short transaction per validation).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from twostep.domain.audit import AuditEvent, AuditQuery
from twostep.domain.challenges import Challenge, ChallengeState, Parties
from twostep.domain.entities import (
    Activation,
    AdminKey,
    Device,
    Integration,
    Method,
    MethodKind,
    MethodStatus,
    MfaState,
    OtpParams,
    RadiusClient,
    Role,
    Tenant,
    User,
)
from twostep.domain.sealing import SealedValue
from twostep.domain.settings import TenantSettings


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SecretBox(Protocol):
    """Authenticated encryption of secrets at rest, bound to a context string."""

    def seal(self, plaintext: bytes, context: str) -> bytes: ...

    def open(self, sealed: bytes, context: str) -> bytes: ...

    def needs_rotation(self, sealed: bytes) -> bool:
        """True when ``sealed`` is not under the current key."""
        ...

    def digest(self, data: bytes, context: str) -> bytes:
        """A keyed digest of a short-lived secret (a one-time code): a copy of the
        database alone cannot try the million codes against it."""
        ...

    def digest_matches(self, digest: bytes, data: bytes, context: str) -> bool:
        """Compare in constant time; False for a digest under a key no longer held."""
        ...


@dataclass(frozen=True, slots=True)
class NewUser:
    name: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mfa: MfaState = MfaState.ENABLED
    language: str | None = None


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
    manufacturer: str | None = None
    model: str | None = None
    valid_from: float | None = None
    valid_until: float | None = None
    phone: str | None = None
    email: str | None = None
    sealed_pin: bytes | None = None  # voice: the PIN, sealed to the method id
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    """Everything a validation needs to know about one user, read in one go."""

    tenant: Tenant
    user: User | None  # None: no such user in the tenant
    methods: tuple[Method, ...]
    sealed: Mapping[str, bytes]  # sealed seeds by method id
    password_hash: str | None = None  # the user's local primary password (argon2id), if set


class SubjectRepo(Protocol):
    def load(
        self, user_name: str, *, tenant_id: int | None = None, tenant_name: str | None = None
    ) -> Subject | None:
        """The tenant (by id or name) with the user and their methods; None if no tenant."""
        ...


class TenantRepo(Protocol):
    def add(self, name: str, settings: TenantSettings, now: float) -> Tenant: ...

    def by_name(self, name: str) -> Tenant | None: ...

    def by_id(self, tenant_id: int) -> Tenant | None: ...

    def all(self) -> Sequence[Tenant]: ...

    def save_settings(self, tenant_id: int, settings: TenantSettings) -> None: ...


class UserRepo(Protocol):
    def add(self, tenant_id: int, user: NewUser, now: float) -> User: ...

    def by_name(self, tenant_id: int, name: str) -> User | None: ...

    def by_id(self, user_id: int) -> User | None: ...

    def list(self, tenant_id: int, after: str | None, limit: int) -> Sequence[User]: ...

    def update(self, user: User) -> None: ...

    def delete(self, user_id: int) -> None: ...

    def set_default_method(self, user_id: int, method_id: str | None) -> None: ...

    def registered(self, user_id: int, method_id: str) -> None:
        """A first method becomes the default (if the user has none) and an ``enabled``
        user becomes ``enforced``: conditional updates, so racing registrations agree."""
        ...

    def record_failure(
        self, user_id: int, now: float, max_failures: int, lock_until: float
    ) -> bool:
        """Count one failure atomically; lock when the count reaches ``max_failures``.
        Returns True when this failure locked the user."""
        ...

    def reset_failures_unless_locked(self, user_id: int, now: float) -> bool:
        """Clear the failure count in one conditional update; False if the user is locked."""
        ...

    def unlock(self, user_id: int) -> None: ...

    def forgive_failure(self, user_id: int, now: float) -> None:
        """Take back one counted failure (a challenge that never reached the user),
        unless the user is locked."""
        ...

    def lock(self, user_id: int, until: float) -> None:
        """Lock the user until ``until`` (a fraud report), whatever the failure count."""
        ...

    def locked(self, user_id: int, now: float) -> bool: ...


class MethodRepo(Protocol):
    def add(self, method: NewMethod, now: float) -> Method: ...

    def by_id(self, user_id: int, method_id: str) -> Method | None: ...

    def for_user(self, user_id: int) -> Sequence[Method]: ...

    def sealed_seed(self, method_id: str) -> bytes | None: ...

    def sealed_pin(self, method_id: str) -> bytes | None: ...

    def activate(self, method_id: str, now: float) -> bool: ...

    def delete(self, method_id: str) -> None: ...

    def delete_for_device(self, device_id: str) -> None:
        """The app_push and app_code methods a device's activation gave."""
        ...

    def serial_in_use(self, tenant_id: int, serial: str) -> bool: ...

    def claim_step(self, method_id: str, step: int, now: float) -> bool:
        """Record TOTP step ``step`` as used if no later or equal step was and the user
        is not locked at ``now``: one-time use decided by the database in one conditional
        update, so two nodes cannot both win."""
        ...

    def claim_counter(self, method_id: str, matched: int, now: float) -> bool:
        """Advance the HOTP counter past ``matched`` if it has not passed it yet and the
        user is not locked at ``now``."""
        ...

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


class IntegrationRepo(Protocol):
    def add(
        self, tenant_id: int, name: str, key_id: str, key_hash: bytes, now: float
    ) -> Integration: ...

    def by_key_id(self, key_id: str) -> tuple[Integration, bytes] | None: ...

    def list(self, tenant_id: int) -> Sequence[Integration]: ...

    def by_name(self, tenant_id: int, name: str) -> Integration | None: ...

    def revoke(self, integration_id: int, now: float) -> None: ...


class AdminKeyRepo(Protocol):
    def add(
        self,
        name: str,
        role: Role,
        tenant_id: int | None,
        key_id: str,
        key_hash: bytes,
        now: float,
    ) -> AdminKey: ...

    def by_key_id(self, key_id: str) -> tuple[AdminKey, bytes] | None: ...

    def list(self) -> Sequence[AdminKey]: ...

    def revoke(self, key_id: str, now: float) -> bool: ...

    def count_active(self) -> int: ...


class AuditRepo(Protocol):
    def add(self, tenant_id: int, event: AuditEvent) -> None: ...

    def query(self, query: AuditQuery) -> Sequence[AuditEvent]: ...


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
        self, challenge_id: str, code_hash: bytes | None, now: float, interval: int, max_sends: int
    ) -> bool:
        """Record one more send (with a new code) if pending, unexpired, not sent within
        ``interval`` seconds and sent fewer than ``max_sends`` times."""
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


@dataclass(frozen=True, slots=True)
class GatewayRecord:
    id: str
    tenant_id: int
    name: str
    kind: str
    position: int
    settings: Mapping[str, object]  # without the credentials
    sealed_secrets: bytes | None  # JSON of the credentials, sealed to the gateway id
    created_at: float


class GatewayRepo(Protocol):
    def add(self, gateway: GatewayRecord) -> None: ...

    def for_tenant(self, tenant_id: int) -> Sequence[GatewayRecord]:
        """The tenant's gateways in failover order."""
        ...

    def by_id(self, gateway_id: str) -> GatewayRecord | None: ...

    def delete(self, gateway_id: str) -> None: ...


class RadiusClientRepo(Protocol):
    def add(self, client: RadiusClient, sealed_secret: bytes) -> None: ...

    def list(self, tenant_id: int) -> Sequence[RadiusClient]: ...

    def by_name(self, tenant_id: int, name: str) -> RadiusClient | None: ...

    def delete(self, client_id: str) -> None:
        """Delete the client and the integration that names it."""
        ...

    def networks(self) -> Sequence[tuple[RadiusClient, str]]:
        """Every client of every tenant, oldest first, with its tenant's name."""
        ...

    def active(self) -> Sequence[tuple[RadiusClient, bytes]]:
        """Every client of every tenant whose integration is not revoked, with its
        sealed secret: what a RADIUS server loads."""
        ...


class PasswordRepo(Protocol):
    """Users' local primary passwords (argon2id hashes), for RADIUS password+code."""

    def get(self, user_id: int) -> str | None: ...

    def set(self, user_id: int, password_hash: str | None) -> None: ...


@dataclass(frozen=True, slots=True)
class NewDevice:
    id: str
    tenant_id: int
    user_id: int
    name: str
    platform: str | None
    key_type: str
    public_key: bytes
    push_kind: str
    sealed_channel: bytes | None  # the push channel's JSON, sealed to the device id


class DeviceRepo(Protocol):
    def add(self, device: NewDevice, now: float) -> Device: ...

    def by_id(self, device_id: str) -> Device | None: ...

    def for_user(self, user_id: int) -> Sequence[Device]: ...

    def sealed_channel(self, device_id: str) -> bytes | None: ...

    def rename(self, device_id: str, name: str) -> None: ...

    def revoke(self, device_id: str, now: float, reason: str) -> bool:
        """Active -> revoked; False if it was not active."""
        ...

    def seen(self, device_id: str, now: float) -> None: ...

    def set_push(self, device_id: str, kind: str, sealed_channel: bytes | None) -> None:
        """A new push channel (an app's rotated FCM token, a new Web Push subscription)."""
        ...


class SealedRepo(Protocol):
    """Every secret at rest (seeds, PINs, gateway credentials, RADIUS secrets, push
    channels), for re-encryption under a new key."""

    def each(self) -> Iterator[SealedValue]: ...

    def replace(self, value: SealedValue, sealed: bytes) -> None:
        """Store ``sealed`` in the place ``value`` came from."""
        ...

    def any(self) -> bool: ...


class ActivationRepo(Protocol):
    def add(self, activation: Activation, code_hash: bytes) -> None: ...

    def claim(self, code_hash: bytes, now: float) -> Activation | None:
        """Spend an unexpired, unused activation (conditional: single use across nodes)."""
        ...


class Transaction(Protocol):
    @property
    def tenants(self) -> TenantRepo: ...

    @property
    def users(self) -> UserRepo: ...

    @property
    def methods(self) -> MethodRepo: ...

    @property
    def tokens(self) -> TokenPoolRepo: ...

    @property
    def integrations(self) -> IntegrationRepo: ...

    @property
    def admin_keys(self) -> AdminKeyRepo: ...

    @property
    def audit(self) -> AuditRepo: ...

    @property
    def subjects(self) -> SubjectRepo: ...

    @property
    def challenges(self) -> ChallengeRepo: ...

    @property
    def deliveries(self) -> DeliveryRepo: ...

    @property
    def gateways(self) -> GatewayRepo: ...

    @property
    def devices(self) -> DeviceRepo: ...

    @property
    def activations(self) -> ActivationRepo: ...

    @property
    def radius_clients(self) -> RadiusClientRepo: ...

    @property
    def passwords(self) -> PasswordRepo: ...

    @property
    def sealed(self) -> SealedRepo: ...


class Storage(Protocol):
    def transaction(self, *, write: bool = False) -> AbstractContextManager[Transaction]:
        """A unit of work: committed when the block ends, rolled back on an exception.
        ``write=True`` takes the write lock up front (SQLite ``BEGIN IMMEDIATE``), so a
        writer waits its turn instead of failing on an upgrade from read to write."""
        ...


class KeyManager(Protocol):
    """Owns the keyring; rotation is two-phase so a crash never strands a secret."""

    def begin_rotation(self) -> SecretBox:
        """Make a new current key (old ones still open) and return a box over all of them."""
        ...

    def finish_rotation(self) -> str:
        """Retire the old keys; returns a note for the operator."""
        ...


class PrimaryPasswords(Protocol):
    """Where a user's primary password is checked: Twostep's own (argon2id) today, a
    directory bind tomorrow, behind the same call."""

    def check(
        self, tenant: Tenant, user: User | None, stored: str | None, password: str
    ) -> bool | None:
        """True or False; None when this user has no primary password to check against.
        An unknown user (``None``) costs the same work as a known one, and is False."""
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


class AlertSink(Protocol):
    """Tells administrators at once (a fraud report): a webhook, besides the log line."""

    def send(self, url: str, alert: Mapping[str, object]) -> None:
        """Post ``alert`` as JSON to ``url`` without holding up the caller."""
        ...
