"""Request and response bodies. Requests forbid unknown fields, so a typo is a 422
rather than a silently ignored option."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from twostep.domain.entities import (
    AdminKey,
    Integration,
    Method,
    MethodKind,
    MfaState,
    OtpAlgorithm,
    OtpType,
    Role,
    Tenant,
    User,
)
from twostep.domain.phone import mask_phone


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ValidateBody(Strict):
    user: str = Field(min_length=1, max_length=256)
    tenant: str | None = Field(default=None, min_length=1, max_length=64)
    code: str | None = Field(default=None, max_length=64)
    method: MethodKind | None = None
    client_ip: str | None = Field(default=None, max_length=45)

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


class CodeBody(Strict):
    code: str = Field(min_length=1, max_length=64)


class TenantBody(Strict):
    name: str = Field(min_length=1, max_length=64)
    settings: dict[str, Any] = {}


class TenantOut(BaseModel):
    name: str
    settings: dict[str, Any]

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(name=tenant.name, settings=tenant.settings.to_dict())


class UserBody(Strict):
    user: str = Field(min_length=1, max_length=256)
    first_name: str | None = Field(default=None, max_length=128)
    last_name: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=32)
    mfa: MfaState = MfaState.ENABLED
    language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

    @field_validator("mfa", mode="before")
    @classmethod
    def _mfa(cls, value: Any) -> Any:
        return MfaState(value) if isinstance(value, str) else value


class UserPatch(Strict):
    first_name: str | None = Field(default=None, max_length=128)
    last_name: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=32)
    mfa: MfaState | None = None
    language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

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
        )


class MethodBody(Strict):
    kind: MethodKind
    label: str | None = Field(default=None, max_length=128)
    # oath_token only
    serial: str | None = Field(default=None, min_length=1, max_length=64)
    secret: str | None = Field(default=None, min_length=1, max_length=512)
    otp_type: OtpType = OtpType.TOTP
    algorithm: OtpAlgorithm = OtpAlgorithm.SHA1
    digits: int = Field(default=6, ge=6, le=8)
    period: int = 30
    counter: int = Field(default=0, ge=0)
    # sms, sms_reply, voice
    phone: str | None = Field(default=None, min_length=1, max_length=32)
    pin: str | None = Field(default=None, min_length=4, max_length=8)  # voice only

    @field_validator("kind", "otp_type", "algorithm", mode="before")
    @classmethod
    def _enums(cls, value: Any, info: ValidationInfo) -> Any:
        kinds = {"kind": MethodKind, "otp_type": OtpType, "algorithm": OtpAlgorithm}
        if isinstance(value, str):
            return kinds[str(info.field_name)](value)
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: int) -> int:
        if value not in (30, 60):
            raise ValueError("period must be 30 or 60")
        return value


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
            default=method.id == default_id,
        )


class EnrollmentOut(MethodOut):
    otpauth_uri: str | None = None
    qr_png: str | None = None  # data: URI
    qr_svg: str | None = None


class ResyncBody(Strict):
    first_code: str = Field(min_length=1, max_length=16)
    second_code: str = Field(min_length=1, max_length=16)


class IntegrationBody(Strict):
    name: str = Field(min_length=1, max_length=128)


class IntegrationOut(BaseModel):
    name: str
    key_id: str
    created_at: float
    revoked: bool

    @classmethod
    def of(cls, integration: Integration) -> IntegrationOut:
        return cls(
            name=integration.name,
            key_id=integration.key_id,
            created_at=integration.created_at,
            revoked=integration.revoked_at is not None,
        )


class IntegrationCreated(IntegrationOut):
    key: str  # shown once


class AdminKeyBody(Strict):
    name: str = Field(min_length=1, max_length=128)
    role: Role
    tenant: str | None = None

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: Any) -> Any:
        return Role(value) if isinstance(value, str) else value


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
