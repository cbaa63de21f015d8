"""Entities: tenants, users, methods, integrations, API keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from twostep.domain.kinds import MethodKind as MethodKind  # noqa: PLC0414 - re-exported
from twostep.domain.settings import TenantSettings


class MfaState(StrEnum):
    DISABLED = "disabled"  # no second factor asked: the admin exempted this user
    ENABLED = "enabled"  # second factor required; the user has yet to register a method
    ENFORCED = "enforced"  # second factor required; set when the first method is registered


class MethodStatus(StrEnum):
    PENDING = "pending"  # enrolled, waiting for a first valid code
    ACTIVE = "active"
    UNASSIGNED = "unassigned"  # a hardware token in the tenant's pool
    LOST = "lost"  # a hardware token reported lost: it verifies nothing


class OtpAlgorithm(StrEnum):
    SHA1 = "SHA1"
    SHA256 = "SHA256"
    SHA512 = "SHA512"


class OtpType(StrEnum):
    TOTP = "totp"
    HOTP = "hotp"


class Role(StrEnum):
    GLOBAL_ADMIN = "global_admin"
    TENANT_ADMIN = "tenant_admin"
    # Finds users, unlocks them, asks for re-registration, deletes app passwords; no
    # settings, keys or integrations (domain/permissions.py). Granted to users for the
    # pages (admin grants); an admin API key is never of this role.
    HELP_DESK = "help_desk"


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    name: str
    settings: TenantSettings = field(default_factory=TenantSettings)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    tenant_id: int
    name: str  # the unique ID within the tenant
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None  # E.164
    mfa: MfaState = MfaState.ENABLED
    default_method_id: str | None = None
    failed_count: int = 0
    locked_until: float | None = None  # epoch seconds; None when not locked
    language: str | None = None  # BCP 47, for texts and calls; None: the tenant's
    directory_id: str | None = None  # taken from this directory (None: made by hand)
    external_id: str | None = None  # the directory entry's stable id (entryUUID, objectGUID)
    dn: str | None = None  # the directory entry's DN: what a password bind binds as
    groups: tuple[str, ...] = ()  # the user's groups in the directory (DNs)
    disabled_at: float | None = None  # set: every sign-in answers user_disabled
    disabled_reason: str | None = None  # DisabledReason
    registration_required_at: float | None = None  # an admin asked them to register again
    bypass_until: float | None = None  # a one-time bypass, usable once before then

    def bypass_pending(self, now: float) -> bool:
        return self.bypass_until is not None and now < self.bypass_until

    def is_locked(self, now: float) -> bool:
        return self.locked_until is not None and now < self.locked_until

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


class DisabledReason(StrEnum):
    ADMIN = "admin"  # an admin disabled the user
    DIRECTORY_REMOVED = "directory_removed"  # gone from the directory, its filter or group
    DIRECTORY_DISABLED = "directory_disabled"  # disabled there (AD userAccountControl bit 2)


@dataclass(frozen=True, slots=True)
class OtpParams:
    """What a one-time-password generator needs, apart from the seed."""

    type: OtpType = OtpType.TOTP
    algorithm: OtpAlgorithm = OtpAlgorithm.SHA1
    digits: int = 6
    period: int = 30  # TOTP only


@dataclass(frozen=True, slots=True)
class Method:
    """A registered method. The seed itself never lives here: it is fetched
    (and decrypted) only by the verification step that needs it."""

    id: str
    user_id: int | None  # None: a hardware token in the pool
    kind: MethodKind
    status: MethodStatus
    label: str | None = None
    otp: OtpParams | None = None
    serial: str | None = None  # OATH token serial
    counter: int = 0  # HOTP: next expected counter
    last_step: int = -1  # TOTP: last accepted time step
    drift: int = 0  # TOTP: steps the token's clock is off (set by resync)
    created_at: float = 0.0
    manufacturer: str | None = None  # hardware tokens, from the vendor's file
    model: str | None = None
    valid_from: float | None = None
    valid_until: float | None = None
    phone: str | None = None  # E.164: the number a phone method texts or calls
    extension: str | None = None  # dialled once a call is answered (texts ignore it)
    email: str | None = None  # the address an email method sends codes to
    device_id: str | None = None  # app_push / app_code given by a device's activation


@dataclass(frozen=True, slots=True)
class Integration:
    id: int
    tenant_id: int
    name: str
    key_id: str
    created_at: float
    revoked_at: float | None = None
    # A client that sends a password and nothing else (IMAP, an old VPN): an app password
    # stands in for password + second factor.
    legacy: bool = False
    # Set when its tenant's provider was replaced: every call answers
    # integration_not_activated until it is activated again (services/activations.py).
    pending_since: float | None = None
    # The client addresses it sends are ones it vouches for: only then may they meet the
    # tenant's trusted networks (services/policy.py); else they are only recorded.
    trusted_client_addresses: bool = False
    # The management portal's own sign-in (services/page_signin.py): Twostep protects itself,
    # so nothing skips its second factor (no one-time bypass, trusted network or remembered
    # browser). Never stored: only the built-in integration of /admin sets it.
    never_skips: bool = False


class RadiusMode(StrEnum):
    SECOND_FACTOR = "second_factor"  # the NAS checked the password: User-Password is the code
    # User-Password is password+code or password,code
    PASSWORD_AND_CODE = "password_and_code"  # noqa: S105 - a mode name, not a password
    CHALLENGE = "challenge"  # Access-Challenge with State, then the code
    # A legacy client: User-Password is an app password (or the primary password of a user
    # without two-step verification). Nothing else is asked.
    PASSWORD_ONLY = "password_only"  # noqa: S105 - a mode name, not a password


class RadiusPrimary(StrEnum):
    """Who checks the primary password a RADIUS client sends (MFA Server's "target")."""

    NONE = "none"  # as the mode says: the NAS checked it, or Twostep's own (mode's) check
    LDAP = "ldap"  # a bind as the user to the directory they came from
    RADIUS = "radius"  # proxied to the client's upstream RADIUS servers, in order


@dataclass(frozen=True, slots=True)
class RadiusUpstream:
    """An upstream RADIUS server that checks primary passwords (its secret is sealed apart)."""

    address: str  # an IP address (loopback or otherwise); no name, nothing to resolve
    port: int = 1812
    timeout: float = 5.0  # seconds for its answer before the next server is asked


@dataclass(frozen=True, slots=True)
class RadiusClient:
    """A NAS (VPN, gateway, Wi-Fi controller) allowed to send Access-Requests. It is an
    integration: its name is the audit log's integration. The shared secret is not here."""

    id: str
    tenant_id: int
    integration_id: int
    name: str
    network: str  # an address or CIDR, IPv4 or IPv6, normalised ("192.0.2.0/24")
    mode: RadiusMode = RadiusMode.SECOND_FACTOR
    require_message_authenticator: bool = True
    limit_proxy_state: bool = False
    push_wait_seconds: int = 20
    created_at: float = 0.0
    # MFA Server's "require user match": off, a user unknown or without a method is
    # accepted after the primary password alone (services/signin_options.py).
    require_user_match: bool = True
    oath_fallback: bool = False  # a failed push or call offers an OATH code (a challenge)
    primary: RadiusPrimary = RadiusPrimary.NONE
    upstreams: tuple[RadiusUpstream, ...] = ()  # for RadiusPrimary.RADIUS, in order


@dataclass(frozen=True, slots=True)
class AdminKey:
    id: int
    key_id: str
    name: str
    role: Role
    tenant_id: int | None  # None for a global admin
    created_at: float
    revoked_at: float | None = None
    tenant: str | None = None  # the tenant's name, for display
    source: str | None = None  # where this call came from: the client's address, or "cli"
    interface: str = "http"  # http, cli, sync: the admin trail's interface

    def may_manage(self, tenant_id: int) -> bool:
        return self.role is Role.GLOBAL_ADMIN or self.tenant_id == tenant_id


class DeviceState(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"  # deactivated or replaced: it answers nothing any more


@dataclass(frozen=True, slots=True)
class Device:
    """One activated authenticator app. Only its public key is known here."""

    id: str
    tenant_id: int
    user_id: int
    name: str
    key_type: str  # ed25519 or p256
    public_key: bytes  # ed25519: 32 raw bytes; p256: the SEC1 uncompressed point
    push_kind: str  # pull, webpush, ntfy, fcm
    state: DeviceState
    created_at: float
    platform: str | None = None
    last_seen_at: float | None = None
    revoked_at: float | None = None
    revoked_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Activation:
    id: str
    tenant_id: int
    user_id: int
    created_at: float
    expires_at: float
    replaces: str | None = None  # the device a new phone replaces


@dataclass(frozen=True, slots=True)
class AppPassword:
    """An app password's record. The password itself was shown once and is not kept."""

    id: str
    tenant_id: int
    user_id: int
    name: str  # "Outlook on laptop"
    created_at: float
    last_used_at: float | None = None
