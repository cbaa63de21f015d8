"""The device API's payloads as typed values, read strictly where the client relies on
them (what it signs, what it stores) and leniently elsewhere (extra fields are ignored)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from twostep.authenticator.errors import ProtocolError


class Decision(StrEnum):
    APPROVE = "approve"
    DENY = "deny"
    FRAUD = "fraud"  # "this wasn't me"


@dataclass(frozen=True, slots=True)
class Totp:
    """The offline-code generator the activation hands out."""

    secret: str  # base32
    algorithm: str = "SHA1"
    digits: int = 6
    period: int = 30

    @classmethod
    def from_json(cls, data: object) -> Totp:
        obj = _object(data, "totp")
        return cls(
            secret=_str(obj, "secret"),
            algorithm=_str(obj, "algorithm", "SHA1").upper(),
            digits=_int(obj, "digits", 6),
            period=_int(obj, "period", 30),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "secret": self.secret,
            "algorithm": self.algorithm,
            "digits": self.digits,
            "period": self.period,
        }


@dataclass(frozen=True, slots=True)
class Activation:
    """``201`` of ``POST /v1/devices/activate``."""

    device_id: str
    tenant: str
    user: str
    issuer: str
    totp: Totp
    server_time: float | None

    @classmethod
    def from_json(cls, data: object) -> Activation:
        obj = _object(data, "activation")
        return cls(
            device_id=_str(obj, "device_id"),
            tenant=_str(obj, "tenant"),
            user=_str(obj, "user"),
            issuer=_optional_str(obj, "issuer") or "Twostep",
            totp=Totp.from_json(obj.get("totp")),
            server_time=_as_float(obj.get("server_time")),
        )


@dataclass(frozen=True, slots=True)
class SignInRequest:
    """One pending sign-in request, as ``GET /v1/devices/{device}/requests`` lists it."""

    transaction_id: str
    nonce: str
    integration: str = ""
    client_ip: str = ""
    created_at: float | None = None
    expires_at: float | None = None
    message: str = ""
    number_required: bool = True  # False: the sign-in shows no number (approve or deny)

    @classmethod
    def from_json(cls, data: object) -> SignInRequest:
        obj = _object(data, "request")
        return cls(
            transaction_id=_str(obj, "transaction_id"),
            nonce=_str(obj, "nonce"),
            integration=_optional_str(obj, "integration"),
            client_ip=_optional_str(obj, "client_ip"),
            created_at=_as_float(obj.get("created_at")),
            expires_at=_as_float(obj.get("expires_at")),
            message=_optional_str(obj, "message"),
            number_required=obj.get("number_required") is not False,
        )


def requests_from_json(data: object) -> list[SignInRequest]:
    items = _object(data, "requests list").get("requests")
    if not isinstance(items, list):
        raise ProtocolError("the server's answer has no 'requests' list")
    return [SignInRequest.from_json(item) for item in items]


@dataclass(frozen=True, slots=True)
class AnswerResult:
    """What the server made of an answer: ``accept``, or ``reject`` with a reason."""

    result: str
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.result == "accept"

    @classmethod
    def from_json(cls, data: object) -> AnswerResult:
        obj = _object(data, "answer result")
        reason = obj.get("reason")
        return cls(result=_str(obj, "result"), reason=reason if isinstance(reason, str) else None)


def push_channel(kind: str, target: str | None = None) -> dict[str, str]:
    """The activation's ``push`` object. Only ``pull`` needs nothing more; the reference
    client always long-polls (the pull channel works whatever else is registered)."""
    if kind == "pull":
        return {"kind": "pull"}
    if not target:
        raise ValueError(f"push kind {kind!r} needs a target (ntfy topic URL or FCM token)")
    if kind == "ntfy":
        return {"kind": "ntfy", "url": target}
    if kind == "fcm":
        return {"kind": "fcm", "token": target}
    raise ValueError(f"unsupported push kind {kind!r}")


def _object(data: object, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProtocolError(f"the server's {what} is not a JSON object")
    return data


_MISSING: Any = object()


def _str(obj: dict[str, Any], key: str, default: str = _MISSING) -> str:
    value = obj.get(key, default)
    if value is _MISSING or not isinstance(value, str) or not value:
        raise ProtocolError(f"the server's answer lacks the string {key!r}")
    return value


def _optional_str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _as_float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _int(obj: dict[str, Any], key: str, default: int) -> int:
    value = obj.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"the server's {key!r} is not an integer")
    return value
