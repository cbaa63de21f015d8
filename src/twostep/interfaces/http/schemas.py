"""Request and response bodies. Requests forbid unknown fields, so a typo is a 422
rather than a silently ignored option, and refuse control characters anywhere
(json_text.Body). Their constraints are the server's own, so the OpenAPI description
tells a client exactly what is accepted."""

from __future__ import annotations

from ipaddress import ip_address
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from twostep.domain.entities import (
    AdminKey,
    Integration,
    Method,
    MethodKind,
    MfaState,
    OtpType,
    Tenant,
    User,
)
from twostep.domain.phone import mask_phone
from twostep.domain.settings import flat_schema
from twostep.factors import registry
from twostep.factors.base import Fields, Kind
from twostep.factors.email import mask_address
from twostep.interfaces.http.json_text import Body, JsonObject

TENANT_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
EMAIL = r"^[^@\s]+@[^@\s]+$"
LANGUAGE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
NAME = r"^\S(.*\S)?$"  # names of integrations, keys, RADIUS clients: no outer spaces


# An IPv4 or IPv6 address, as ``ip_address`` reads it (checked by the model that uses it).
IpAddress = Annotated[
    str,
    Field(max_length=45),
    WithJsonSchema(
        {"type": "string", "maxLength": 45, "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
    ),
]


class Strict(Body):
    model_config = ConfigDict(extra="forbid", strict=True)


# Tenant settings, checked by domain/settings.py (422 invalid_setting), described in full.
Settings = Annotated[
    JsonObject,
    WithJsonSchema(
        {
            **flat_schema(),
            "title": "TenantSettings",
            "description": "Tenant settings (a partial object: only the settings to change)",
        }
    ),
]


class ValidateBody(Strict):
    user: str = Field(min_length=1, max_length=256)
    tenant: str | None = Field(default=None, min_length=1, max_length=64)
    code: str | None = Field(default=None, max_length=64)
    method: MethodKind | None = None
    client_ip: IpAddress | None = None
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="the user's primary password, checked first (the user must have one); "
        "from a legacy integration without a code, an app password or the primary password",
    )

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> Any:
        return MethodKind(value) if isinstance(value, str) else value

    @field_validator("client_ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is not None:
            ip_address(value)  # ValueError -> 422
        return value


class ValidateAnswer(BaseModel):
    result: str
    reason: str | None = None
    transaction_id: str | None = None
    methods: list[str] = []
    number: int | None = None  # app_push: the number the sign-in page shows
    prompt: str | None = None  # a challenge's instruction for the user
    message: str | None = None  # a reject's advice for the user (what to do instead)


class CodeBody(Strict):
    code: str = Field(min_length=1, max_length=64)


class TenantBody(Strict):
    name: str = Field(pattern=TENANT_NAME, description="lower-case letters, digits, - and _")
    settings: Settings = {}


class TenantOut(BaseModel):
    name: str
    settings: dict[str, Any]

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(name=tenant.name, settings=tenant.settings.to_dict())


class UserBody(Strict):
    user: str = Field(min_length=1, max_length=128)
    first_name: str | None = Field(default=None, max_length=128)
    last_name: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=320, pattern=EMAIL)
    phone: str | None = Field(default=None, min_length=1, max_length=32)
    mfa: MfaState = MfaState.ENABLED
    language: str | None = Field(default=None, pattern=LANGUAGE)

    @field_validator("mfa", mode="before")
    @classmethod
    def _mfa(cls, value: Any) -> Any:
        return MfaState(value) if isinstance(value, str) else value


class UserPatch(Strict):
    """Fields sent as null are cleared (mfa cannot be)."""

    first_name: str | None = Field(default=None, max_length=128)
    last_name: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=320, pattern=EMAIL)
    phone: str | None = Field(default=None, min_length=1, max_length=32)
    mfa: MfaState | SkipJsonSchema[None] = None
    language: str | None = Field(default=None, pattern=LANGUAGE)

    @field_validator("mfa", mode="before")
    @classmethod
    def _mfa(cls, value: Any) -> Any:
        return MfaState(value) if isinstance(value, str) else value


class UserOut(BaseModel):
    user: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    mfa: str
    language: str | None
    default_method: str | None
    locked: bool
    failed_count: int
    disabled: bool = False
    disabled_reason: str | None = Field(
        default=None, description="admin, directory_removed or directory_disabled"
    )
    registration_required: bool = Field(
        default=False, description="an admin asked the user to register again"
    )
    directory: str | None = Field(default=None, description="the directory's id it came from")
    groups: list[str] = Field(default=[], description="the user's directory groups (DNs)")
    bypass_until: float | None = Field(
        default=None,
        description="the end (epoch seconds) of the user's open one-time bypass, else null",
    )

    @classmethod
    def of(cls, user: User, now: float) -> UserOut:
        return cls(
            user=user.name,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            phone=user.phone,
            mfa=user.mfa.value,
            language=user.language,
            default_method=user.default_method_id,
            locked=user.is_locked(now),
            failed_count=user.failed_count,
            disabled=user.disabled,
            disabled_reason=user.disabled_reason,
            registration_required=user.registration_required_at is not None,
            directory=user.directory_id,
            groups=list(user.groups),
            bypass_until=user.bypass_until if user.bypass_pending(now) else None,
        )


def _method_body(kind: Kind) -> type[BaseModel]:
    """The API body of one kind: its enrollment fields (factors/), its ``kind``, the text
    rule of every body (Strict)."""
    assert kind.fields is not None
    name = "".join(part.title() for part in kind.kind.value.split("_")) + "Body"
    tag: Any = Literal[kind.kind.value]
    body: type[BaseModel] = create_model(
        name, __base__=(Strict, kind.fields), kind=(tag, Field(description="the method kind"))
    )
    return body


# The body of a new method, by kind, from the registry (app_push comes with a device).
if TYPE_CHECKING:
    MethodBody = Fields
else:
    MethodBody = Annotated[
        Union[tuple(_method_body(k) for k in registry.enrollable())],  # noqa: UP007
        Field(discriminator="kind"),
    ]


class MethodOut(BaseModel):
    id: str
    kind: str
    status: str
    label: str | None = None
    serial: str | None = None
    otp_type: str | None = None
    algorithm: str | None = None
    digits: int | None = None
    period: int | None = None
    phone: str | None = None  # masked: +1 ••• 4567
    extension: str | None = None  # the phone's extension (moved in from MFA Server)
    email: str | None = None  # masked: a•••@example.com
    valid_from: float | None = None  # hardware tokens: the vendor's validity period (epoch s)
    valid_until: float | None = None  # past it, sign-ins answer token_expired
    default: bool = False

    @classmethod
    def of(cls, method: Method, default_id: str | None = None) -> MethodOut:
        otp = method.otp
        return cls(
            id=method.id,
            kind=method.kind.value,
            status=method.status.value,
            label=method.label,
            serial=method.serial,
            otp_type=otp.type.value if otp else None,
            algorithm=otp.algorithm.value if otp else None,
            digits=otp.digits if otp else None,
            period=otp.period if otp and otp.type is OtpType.TOTP else None,
            phone=mask_phone(method.phone) if method.phone else None,
            extension=method.extension,
            email=mask_address(method.email) if method.email else None,
            valid_from=method.valid_from,
            valid_until=method.valid_until,
            default=method.id == default_id,
        )


class EnrollmentOut(MethodOut):
    otpauth_uri: str | None = None
    qr_png: str | None = None  # data: URI
    qr_svg: str | None = None


class ResyncBody(Strict):
    first_code: str = Field(min_length=1, max_length=16)
    second_code: str = Field(min_length=1, max_length=16)


_LEGACY = "a client that sends a password and nothing else: an app password stands in"


class BypassBody(Strict):
    seconds: int = Field(
        default=300,
        ge=1,
        le=1800,
        description="how long the one-time bypass stays open (MFA Server's default 300 s)",
    )


class IntegrationBody(Strict):
    name: str = Field(max_length=128, pattern=NAME)
    legacy: bool = Field(default=False, description=_LEGACY)


_TRUSTED = (
    "the client_ip this integration sends is one it vouches for: with the tenant's "
    "trusted_networks_enabled, an address inside trusted_networks skips the second factor "
    "(accept / trusted_network); off, the address is only recorded"
)


class IntegrationPatch(Strict):
    legacy: bool | None = Field(default=None, description=_LEGACY)
    trusted_client_addresses: bool | None = Field(default=None, description=_TRUSTED)

    @model_validator(mode="after")
    def _something(self) -> IntegrationPatch:
        if self.legacy is None and self.trusted_client_addresses is None:
            raise ValueError("give legacy, trusted_client_addresses or both")
        return self


class IntegrationOut(BaseModel):
    name: str
    key_id: str
    created_at: float
    revoked: bool
    legacy: bool
    trusted_client_addresses: bool = Field(default=False, description=_TRUSTED)

    @classmethod
    def of(cls, integration: Integration) -> IntegrationOut:
        return cls(
            name=integration.name,
            key_id=integration.key_id,
            created_at=integration.created_at,
            revoked=integration.revoked_at is not None,
            legacy=integration.legacy,
            trusted_client_addresses=integration.trusted_client_addresses,
        )


class IntegrationCreated(IntegrationOut):
    key: str  # shown once


class AdminKeyBody(Strict):
    name: str = Field(max_length=128, pattern=NAME)
    # Not help_desk: that role is granted to people for the pages (/v1/admins), never a key.
    role: Literal["global_admin", "tenant_admin"]
    tenant: str | None = Field(
        default=None,
        pattern=TENANT_NAME,
        description="required for a tenant_admin key, refused for a global_admin one",
    )


class AdminKeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    tenant: str | None
    created_at: float
    revoked: bool

    @classmethod
    def of(cls, key: AdminKey) -> AdminKeyOut:
        return cls(
            key_id=key.key_id,
            name=key.name,
            role=key.role.value,
            tenant=key.tenant,
            created_at=key.created_at,
            revoked=key.revoked_at is not None,
        )


class AdminKeyCreated(AdminKeyOut):
    key: str  # shown once
