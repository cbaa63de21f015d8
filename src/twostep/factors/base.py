"""What every method kind declares, once, in its own module (see registry.py).

A kind says which family it is in, the words a user may type to pick it, the tenant
settings it reads, how a method of it is enrolled (the fields an admin sends and how a
method is made from them), and, by family, how a code is matched or how its challenge is
delivered and answered. The services, the HTTP API, the CLI and RADIUS read these
declarations instead of naming kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic import Field as PydanticField

from twostep.domain.delivery import Channel
from twostep.domain.entities import Method, MethodKind, MethodStatus, OtpParams
from twostep.domain.errors import InvalidInput
from twostep.domain.settings import TenantSettings


class Family(StrEnum):
    CODE = "code"  # a code the user types, decided at once (an app's, a hardware token's)
    CHALLENGE = "challenge"  # a text, a call or an email goes out, and is answered
    PUSH = "push"  # a request on the user's authenticator app, answered there


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """Which one-time value a code matched; exactly one of the two is set."""

    step: int | None = None  # TOTP time step, claimed with MethodRepo.claim_step
    counter: int | None = None  # HOTP counter, claimed with MethodRepo.claim_counter


@runtime_checkable
class CodeFactor(Protocol):
    """A method decided at once from a code the user typed."""

    def match(
        self, method: Method, seed: bytes, code: str, now: float, settings: TenantSettings
    ) -> CodeMatch | None: ...


@dataclass(frozen=True, slots=True)
class ChallengeRules:
    """How a challenge of this kind goes out and comes back."""

    channel: Channel  # what delivers it: a text, a call, an email
    typed: bool  # the user types the code at the sign-in (the integration submits it);
    # else it is answered on the phone: a text back, keys pressed in a call
    sends_code: bool  # a one-time code goes out (and can be sent again); a call has none
    message: str  # the words sent (a key of phone_text)
    prompt: str  # what the sign-in tells the user (a key of phone_text)
    timeout: Callable[[TenantSettings], int]  # the challenge's lifetime, in seconds
    address: Callable[[Method], str | None]  # where it goes: the method's number or address
    mask: Callable[[str], str]  # that destination as the sign-in may show it
    # Refuse (NumberNotAllowed) a destination the tenant no longer sends to.
    allowed: Callable[[str, TenantSettings], None] = lambda _to, _settings: None


class Fields(BaseModel):
    """What an admin sends to enroll a method of a kind (each kind adds its own)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    label: str | None = PydanticField(default=None, max_length=128)


@dataclass(frozen=True, slots=True)
class EnrollContext:
    settings: TenantSettings
    user_name: str  # shown by authenticator apps next to the issuer


@dataclass(frozen=True, slots=True)
class Draft:
    """A method to store, as a kind made it from its fields. The service seals ``seed``
    and ``pin``, checks that ``serial`` is free, and stores it."""

    status: MethodStatus
    label: str | None = None
    seed: bytes | None = None
    otp: OtpParams | None = None
    serial: str | None = None
    counter: int = 0
    phone: str | None = None  # E.164
    email: str | None = None
    pin: str | None = None
    shown: Mapping[str, str] = field(default_factory=dict)  # told once (an otpauth URI)


Make = Callable[[Any, EnrollContext], Draft]


@dataclass(frozen=True, slots=True)
class Kind:
    """One method kind's declaration."""

    kind: MethodKind
    title: str  # its name for people, in English (the pages' catalogs translate it)
    family: Family
    words: tuple[str, ...]  # what a user may type to pick it (RADIUS, a sign-in page)
    settings: tuple[str, ...]  # the tenant settings it reads
    # Enrollment: None when methods of this kind come another way (a device's activation).
    fields: type[Fields] | None = None
    make: Make | None = None
    code: CodeFactor | None = None  # Family.CODE: how a typed code is matched
    challenge: ChallengeRules | None = None  # Family.CHALLENGE

    def __post_init__(self) -> None:
        assert (self.code is not None) == (self.family is Family.CODE), self.kind
        assert (self.challenge is not None) == (self.family is Family.CHALLENGE), self.kind
        assert (self.fields is None) == (self.make is None), self.kind

    @property
    def out_of_band(self) -> bool:
        """Verified through a challenge or a push, not a code typed at the sign-in."""
        return self.family is not Family.CODE

    def enroll(self, values: Mapping[str, Any] | Fields, context: EnrollContext) -> Draft:
        """The method these enrollment values make, or InvalidInput naming the field."""
        if self.fields is None or self.make is None:
            raise InvalidInput(f"{self.kind.value} methods are not enrolled directly", field="kind")
        if not isinstance(values, self.fields):
            try:
                values = self.fields.model_validate(
                    dict(values) if isinstance(values, Mapping) else values.model_dump()
                )
            except ValidationError as exc:
                raise invalid_fields(exc) from None
        return self.make(values, context)


def invalid_fields(exc: ValidationError) -> InvalidInput:
    """The first problem of enrollment values, naming its field."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return InvalidInput(f"{where or 'body'}: {message}", field=where or None)
