"""Tenant settings: typed sections (otp, lockout, phone, email, push, audit, access,
pages), each setting with its type, range and default declared once.

The sections are how the code reads them (``settings.otp.totp_window``). The API, the CLI
and the database keep one flat object of uniquely named settings
(``{"totp_window": 1, "max_failures": 10, ...}``): ``from_dict``, ``updated`` and
``to_dict`` translate, and every refusal is an ``InvalidSetting`` naming the flat key. The
JSON Schema of that flat object (``flat_schema``) is generated from the same declarations,
so the OpenAPI description cannot drift from what is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from twostep.domain import networks
from twostep.domain.errors import InvalidSetting
from twostep.domain.kinds import MethodKind
from twostep.domain.text import first_refused

AuditField = Literal["first_name", "last_name", "email", "phone", "device", "client_ip"]
AUDIT_OPTIONAL_FIELDS: tuple[AuditField, ...] = get_args(AuditField)
MAX_CALLING_CODES = 300  # more than there are country calling codes
MAX_URL_LENGTH = 2000
MAX_NOTIFY_EMAILS = 20
EMAIL_PATTERN = r"^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$"

DAY = 24 * 3600
# JSON has lists; the settings keep tuples (immutable values). Lists are accepted as given.
TextList = Annotated[tuple[str, ...], Strict(False)]


def _range(default: int, low: int, high: int, description: str) -> Any:
    return Field(default=default, ge=low, le=high, description=description)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        """The one input rule (domain/text.py) for every text setting and list item, before
        any other check."""
        if isinstance(data, dict):
            for name, value in data.items():
                texts = value if isinstance(value, list | tuple) else (value,)
                if any(isinstance(t, str) and first_refused(t) is not None for t in texts):
                    raise ValueError(f"{name}: control characters are not accepted")
        return data


class OtpSettings(_Section):
    """Codes: authenticator apps (app_code) and hardware tokens (oath_token)."""

    totp_window: int = _range(1, 0, 10, "accept the current step and this many either side")
    hotp_lookahead: int = _range(10, 0, 100, "accept this many counters past the expected one")
    hotp_resync_window: int = _range(100, 2, 10_000, "how far two codes are searched in a resync")
    app_code_algorithm: Literal["SHA1", "SHA256", "SHA512"] = Field(
        default="SHA1", description="for new app_code methods (SHA1 is what every app reads)"
    )
    app_code_digits: int = Field(
        default=6, description="for new app_code methods", json_schema_extra={"enum": [6, 8]}
    )
    app_code_period: int = Field(
        default=30, description="for new app_code methods", json_schema_extra={"enum": [30, 60]}
    )

    @field_validator("app_code_digits", "app_code_period")
    @classmethod
    def _one_of(cls, value: int, info: ValidationInfo) -> int:
        allowed = (6, 8) if info.field_name == "app_code_digits" else (30, 60)
        if value not in allowed:
            raise ValueError(f"must be {allowed[0]} or {allowed[1]}")
        return value

    pending_method_seconds: int = _range(
        600, 60, 7 * DAY, "an unconfirmed app_code enrollment expires after this long"
    )


class LockoutSettings(_Section):
    max_failures: int = _range(10, 1, 100, "consecutive failures before the user is locked")
    lockout_seconds: int = _range(900, 0, 30 * DAY, "how long a lock lasts; 0: until unlocked")
    fraud_alert_enabled: bool = Field(
        default=True,
        description="users may report a sign-in as fraud (the fraud code in a call, fraud on "
        "the authenticator); off: such a report is a plain denial",
    )
    fraud_blocks_user: bool = Field(default=True, description="a fraud report locks the user")
    fraud_block_seconds: int = _range(
        90 * DAY, 0, 366 * DAY, "how long a fraud report locks the user; 0: until unlocked"
    )
    not_me_locks_user: bool = Field(
        default=False,
        description='a user\'s "not me" report of a past sign-in (self-service portal) locks '
        "them until an admin unlocks; off: administrators are alerted only",
    )


class PhoneSettings(_Section):
    """Text and call challenges (sms, sms_reply, voice; email codes share the attempt, resend
    and delivery limits): their lifetimes, and the abuse limits that stop SMS pumping and
    toll fraud."""

    sms_code_timeout: int = _range(300, 60, 3600, "one-way SMS: the code's lifetime")
    sms_reply_timeout: int = _range(60, 30, 600, "two-way SMS: how long a reply is waited for")
    voice_timeout: int = _range(120, 30, 600, 'a call: how long "#" is waited for')
    challenge_attempts: int = _range(3, 1, 10, "wrong codes before a challenge is spent")
    resend_interval: int = _range(30, 10, 600, "seconds between two sends of one challenge")
    max_sends: int = _range(3, 1, 5, "sends of one challenge, the first included")
    delivery_window: int = _range(3600, 60, 7 * DAY, "the window of the two limits below")
    user_delivery_limit: int = _range(10, 1, 1000, "texts, calls and emails per user per window")
    tenant_delivery_limit: int = _range(
        1000, 1, 10_000_000, "texts, calls and emails per tenant per window"
    )
    allowed_calling_codes: TextList = Field(
        default=(),
        max_length=MAX_CALLING_CODES,
        description='countries numbers may be in, e.g. ["1", "44"]; empty: every country',
        json_schema_extra={
            "items": {"type": "string", "pattern": "^[1-9][0-9]{0,2}$"},
            "uniqueItems": True,
        },
    )
    sms_sender: str = Field(
        default="", max_length=16, description="sender ID; empty: the gateway's"
    )
    caller_id: str = Field(
        default="",
        pattern=r"^(\+[0-9]{7,15})?$",
        description="E.164 number calls come from; empty: the gateway's",
    )
    voice_pin_required: bool = Field(default=False, description="callers enter their PIN before #")
    voice_pin_attempts: int = _range(1, 1, 5, "PINs a caller may enter in one call")
    fraud_code: str = Field(
        default="0",
        pattern="^[0-9]$",
        description="the digit a caller presses (then #) to report a call as fraud",
    )
    language: str = Field(
        default="en",
        pattern="^[A-Za-z0-9-]{2,16}$",
        description="texts, calls and emails, for users without a language of their own",
    )

    @field_validator("allowed_calling_codes")
    @classmethod
    def _calling_codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(codes)) != len(codes):
            raise ValueError(f"lists each code once, at most {MAX_CALLING_CODES}")
        for code in codes:
            if not (code.isascii() and code.isdigit() and 1 <= len(code) <= 3 and code[0] != "0"):
                raise ValueError('lists country calling codes such as "1" or "44"')
        return codes


class EmailSettings(_Section):
    """Codes sent by email (the email method)."""

    email_code_timeout: int = _range(300, 60, 3600, "an emailed code's lifetime")
    email_sender: str = Field(
        default="",
        max_length=254,
        pattern=r"^([^\s@<>]+@[^\s@<>]+)?$",
        description="the From address; empty: the gateway's",
    )


class PushSettings(_Section):
    """The mobile authenticator (app_push): request lifetime, the text shown on the device,
    the push-fatigue limits and activations."""

    push_timeout: int = _range(60, 15, 600, "seconds a push request waits for its answer")
    push_message: str = Field(
        default="Sign-in to {integration} from {client_ip}",
        min_length=1,
        max_length=200,
        description="shown on the device; may use {integration}, {client_ip} and {user}",
    )
    push_max_pending: int = _range(3, 1, 10, "unanswered requests a user may have at once")
    push_user_limit: int = _range(10, 1, 100, "requests per user per 10 minutes")
    push_pause_after: int = _range(3, 1, 100, "denials within 10 minutes that pause requests")
    push_pause_seconds: int = _range(600, 0, DAY, "how long requests stay paused then")
    activation_seconds: int = _range(600, 60, 7 * DAY, "an activation code's lifetime")

    @field_validator("push_message")
    @classmethod
    def _message(cls, message: str) -> str:
        try:
            message.format(integration="", client_ip="", user="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError("may only use {integration}, {client_ip} and {user}") from exc
        return message


class AuditSettings(_Section):
    audit_fields: Annotated[tuple[AuditField, ...], Strict(False)] = Field(
        default=AUDIT_OPTIONAL_FIELDS,
        description="the optional fields audit events record",
        json_schema_extra={"uniqueItems": True},
    )
    alert_webhook_url: str = Field(
        default="",
        max_length=MAX_URL_LENGTH,
        pattern="^(https?://.*)?$",
        description="where fraud alerts are posted as JSON; empty: log only",
    )
    fraud_notify_emails: TextList = Field(
        default=(),
        max_length=MAX_NOTIFY_EMAILS,
        description="administrators emailed (through the tenant's email gateway) when a "
        "user reports fraud",
        json_schema_extra={
            "items": {"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN},
            "uniqueItems": True,
        },
    )

    @field_validator("fraud_notify_emails")
    @classmethod
    def _addresses(cls, addresses: tuple[str, ...]) -> tuple[str, ...]:
        if len({a.casefold() for a in addresses}) != len(addresses):
            raise ValueError("lists each address once")
        for address in addresses:
            if len(address) > 254 or not re.fullmatch(EMAIL_PATTERN, address):
                raise ValueError("lists email addresses such as admin@example.com")
        return addresses

    @field_validator("audit_fields", mode="before")
    @classmethod
    def _known_fields(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            unknown = sorted(set(value) - set(AUDIT_OPTIONAL_FIELDS))
            if unknown:
                raise ValueError(f"unknown audit field(s): {', '.join(unknown)}")
            if len(set(value)) != len(value):
                raise ValueError("lists a field twice")
        return value


KindList = Annotated[tuple[Annotated[MethodKind, Strict(False)], ...], Strict(False)]


class AccessSettings(_Section):
    """Which methods a tenant offers, app passwords, and who must register what."""

    disabled_kinds: KindList = Field(
        default=(),
        description='method kinds neither offered nor accepted (e.g. ["sms"]), on every node '
        "at once; users whose default it was pick another",
        json_schema_extra={"uniqueItems": True},
    )
    app_passwords_allowed: bool = Field(
        default=False,
        description="users may have app passwords, which legacy integrations (and RADIUS "
        "clients in password_only mode) accept in place of password + second factor",
    )
    registration_groups: TextList = Field(
        default=(),
        max_length=100,
        description="members of these directory groups (name or DN) must have a method of "
        "registration_kinds; until then their sign-ins answer registration_policy",
        json_schema_extra={"items": {"type": "string", "maxLength": 1024}, "uniqueItems": True},
    )
    password_registration: bool = Field(
        default=True,
        description="a user who must register (nothing registered yet, or asked to register "
        "again) may do so at the self-service portal after their primary password alone; "
        "off: only with an enrollment link an admin sends",
    )
    registration_kinds: KindList = Field(
        default=(),
        description="the method kinds registration_groups must register (empty: any kind)",
        json_schema_extra={"uniqueItems": True},
    )
    trusted_networks_enabled: bool = Field(
        default=False,
        description="a sign-in whose client address, sent by an integration flagged "
        "trusted_client_addresses, is in trusted_networks skips the second factor",
    )
    trusted_networks: TextList = Field(
        default=(),
        max_length=networks.MAX_NETWORKS,
        description="CIDR blocks, IPv4 or IPv6 (e.g. 192.0.2.0/24, 2001:db8::/32), kept in "
        "normal form; used only while trusted_networks_enabled is on",
        json_schema_extra={
            "items": {"type": "string", "maxLength": networks.MAX_NETWORK_LENGTH},
            "uniqueItems": True,
        },
    )

    @field_validator("trusted_networks")
    @classmethod
    def _networks(cls, blocks: tuple[str, ...]) -> tuple[str, ...]:
        return networks.normalised(blocks)

    @field_validator("disabled_kinds", "registration_kinds", "registration_groups")
    @classmethod
    def _once_each(cls, values: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(set(values)) != len(values):
            raise ValueError("lists each value once")
        return values

    @field_validator("registration_groups")
    @classmethod
    def _group_names(cls, groups: tuple[str, ...]) -> tuple[str, ...]:
        if any(not group.strip() or len(group) > 1024 for group in groups):
            raise ValueError("lists group names or DNs of 1-1024 characters")
        return groups


class PageSettings(_Section):
    """Sessions at the pages (management portal, self-service portal): how long one lasts
    without a request, and at most. A session keeps the values it was opened with."""

    page_idle_seconds: int = _range(900, 60, DAY, "a page session ends after this long unused")
    page_session_seconds: int = _range(
        8 * 3600, 300, 7 * DAY, "a page session ends this long after sign-in, used or not"
    )
    enrollment_link_seconds: int = _range(
        7 * DAY, 3600, 30 * DAY, "an enrollment link an admin sends works this long"
    )
    remember_device_enabled: bool = Field(
        default=False,
        description="the hosted sign-in page and the self-service portal offer to remember a "
        "browser after its second factor, which is then skipped there for that user",
    )
    remember_device_days: int = _range(14, 1, 60, "how long a remembered browser is trusted")


class TenantSettings(BaseModel):
    """A tenant's settings, by section. Immutable: ``updated`` makes a new value."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    issuer: str = Field(
        default="Twostep",
        min_length=1,
        max_length=64,
        pattern="^[^:]*$",
        description="shown by authenticator apps next to the account (no ':')",
    )
    otp: OtpSettings = Field(default_factory=OtpSettings)
    lockout: LockoutSettings = Field(default_factory=LockoutSettings)
    phone: PhoneSettings = Field(default_factory=PhoneSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    pages: PageSettings = Field(default_factory=PageSettings)

    def __init__(self, **flat: Any) -> None:
        """``TenantSettings(max_failures=3)``: flat keys, checked like ``from_dict``."""
        try:
            super().__init__(**_nest(flat))
        except ValidationError as exc:
            raise _invalid(exc) from None

    @field_validator("issuer")
    @classmethod
    def _printable_issuer(cls, issuer: str) -> str:
        if not issuer.isprintable():
            raise ValueError("must be printable (control characters are not accepted)")
        return issuer

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TenantSettings:
        """Build from stored or submitted flat values; unknown keys are an error."""
        return cls().updated(data)

    def updated(self, changes: Mapping[str, Any]) -> TenantSettings:
        """These settings with ``changes`` (flat keys) applied, all checked, or none."""
        return TenantSettings(**{**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        """The flat object the API, the CLI and the database use (lists, not tuples)."""
        flat: dict[str, Any] = {"issuer": self.issuer}
        for section in _SECTIONS:
            for name, value in getattr(self, section).model_dump().items():
                flat[name] = list(value) if isinstance(value, tuple) else value
        return flat


_SECTIONS = ("otp", "lockout", "phone", "email", "push", "audit", "access", "pages")


@cache
def _where() -> dict[str, str]:
    """Each flat key's section."""
    owners = {}
    for section in _SECTIONS:
        model = TenantSettings.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, _Section)
        for name in model.model_fields:
            assert name not in owners, f"setting {name} in two sections"
            owners[name] = section
    return owners


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    where = _where()
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        if key == "issuer":
            nested["issuer"] = value
        elif key in where:
            nested.setdefault(where[key], {})[key] = value
        else:
            raise InvalidSetting(f"unknown setting {key!r}", field=str(key))
    return nested


def _invalid(exc: ValidationError) -> InvalidSetting:
    """The first problem, as one message naming the flat key."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    named, _, rest = message.partition(": ")
    if named in FLAT_FIELDS and rest:  # a section's own check names the setting
        return InvalidSetting(f"{named}: {rest}", field=named)
    name = next((part for part in reversed(loc) if part in FLAT_FIELDS), loc[-1] if loc else "")
    bounds = RANGES.get(name)
    if bounds is not None and error["type"] in _RANGE_ERRORS:
        low, high = bounds
        return InvalidSetting(f"{name} must be an integer from {low} to {high}", field=name)
    return InvalidSetting(f"{name}: {message}", field=name)


_RANGE_ERRORS = frozenset(
    {"int_type", "int_parsing", "greater_than_equal", "less_than_equal", "int_from_float"}
)


def _flat_fields() -> Iterator[tuple[str, Any]]:
    yield "issuer", TenantSettings.model_fields["issuer"]
    for section in _SECTIONS:
        model = TenantSettings.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        yield from model.model_fields.items()


def _ranges() -> dict[str, tuple[int, int]]:
    """The inclusive ranges of the integer settings, from their declarations."""
    found = {}
    for name, info in _flat_fields():
        low = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), None)
        high = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), None)
        if low is not None and high is not None:
            found[name] = (int(low), int(high))
    return found


FLAT_FIELDS = frozenset(name for name, _info in _flat_fields())
RANGES: dict[str, tuple[int, int]] = _ranges()


def flat_schema() -> dict[str, Any]:
    """The JSON Schema of the flat settings object (for the OpenAPI description)."""
    properties: dict[str, Any] = {}
    top = TenantSettings.model_json_schema(mode="validation")["properties"]
    properties["issuer"] = top["issuer"]
    for section in _SECTIONS:
        model = TenantSettings.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        schema = model.model_json_schema(mode="validation")
        for name, prop in schema["properties"].items():
            prop.pop("title", None)
            properties[name] = prop
    properties["issuer"].pop("title", None)
    return {"type": "object", "properties": properties, "additionalProperties": False}
