"""Users moving in from Azure MFA Server: one record per user as its Web Service SDK
describes them (FindUsers_3, GetPhone, GetUserSettings_2, GetUserDevices), validated,
and the problems that refuse a whole document.

A record never shows its OATH secret: ``OathSeed`` hides it from every repr, and no
problem quotes a secret field's value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from twostep.domain.errors import InvalidInput

SHOWN_PROBLEMS = 20  # spelled out in the error's message; ``problems`` holds them all


class DefaultMethod(StrEnum):
    """MFA Server's default method of a user."""

    PHONE_CALL = "phone_call"
    TEXT_MESSAGE = "text_message"
    MOBILE_APP = "mobile_app"
    OATH_TOKEN = "oath_token"  # noqa: S105 - a method's name


class PinMode(StrEnum):
    """MFA Server's mode: standard (answer, press #) or PIN (enter a PIN, then #)."""

    STANDARD = "standard"
    PIN = "pin"


class TextMode(StrEnum):
    """MFA Server's text message mode: the code alone, or the code followed by a PIN."""

    OTP = "otp"
    OTP_PIN = "otp_pin"


@dataclass(frozen=True, slots=True)
class Phone:
    """A number in E.164 and its extension apart: texts go to the number alone; a call
    dials the extension once answered."""

    e164: str
    extension: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class OathSeed:
    """A user's OATH token (TOTP, 6 digits, SHA-1: what MFA Server's tokens are)."""

    serial: str
    seed: bytes
    period: int = 30

    def __repr__(self) -> str:
        return f"OathSeed(serial={self.serial!r}, seed=<hidden>, period={self.period!r})"


@dataclass(frozen=True, slots=True)
class MfaServerUser:
    """One user as MFA Server knew them, ready to compare with Twostep's."""

    place: str  # "record 3" (JSON) or "line 4" (CSV): where the document holds it
    username: str  # UPN, else sAMAccountName (display form, as checked by domain.names)
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    group: str | None = None
    language: str | None = None
    phone: Phone | None = None
    backup_phone: Phone | None = None
    default_method: DefaultMethod = DefaultMethod.PHONE_CALL
    mode: PinMode = PinMode.STANDARD
    text_mode: TextMode = TextMode.OTP
    oath: OathSeed | None = None
    app_devices: int = 0  # activated MFA apps (GetUserDevices): their activations cannot move

    @property
    def where(self) -> str:
        return f"{self.place} ({self.username})"


@dataclass(frozen=True, slots=True)
class MigrationProblem:
    """Why one record (or the document, when ``place`` is empty) was refused. ``code`` is
    stable (docs/error-codes.md lists them)."""

    code: str
    field: str | None
    reason: str
    place: str | None = None
    username: str | None = None

    @property
    def where(self) -> str:
        if self.place is None:
            return "document"
        return f"{self.place} ({self.username})" if self.username else self.place

    def __str__(self) -> str:
        named = f"{self.field}: " if self.field else ""
        return f"{self.where}: {named}[{self.code}] {self.reason}"


class MigrationRefused(InvalidInput):
    """The MFA Server document was refused and nothing was migrated."""

    code = "migration_refused"

    def __init__(self, problems: Sequence[MigrationProblem]) -> None:
        if not problems:
            raise ValueError("a migration is refused for at least one problem")
        self.problems: tuple[MigrationProblem, ...] = tuple(problems)
        count = len(self.problems)
        listed = "; ".join(str(p) for p in self.problems[:SHOWN_PROBLEMS])
        more = f"; and {count - SHOWN_PROBLEMS} more" if count > SHOWN_PROBLEMS else ""
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"the document was refused, nothing migrated ({count} {noun}): {listed}{more}"
        )

    @property
    def details(self) -> list[dict[str, str | None]]:
        """Every problem, as the HTTP answer's ``details`` lists them (``field`` is ""
        for a problem of the whole document)."""
        return [
            {
                "where": p.where,
                "user": p.username,
                "field": p.field or "",
                "code": p.code,
                "problem": p.reason,
            }
            for p in self.problems
        ]

    @classmethod
    def single(cls, code: str, reason: str, *, field: str | None = None) -> MigrationRefused:
        return cls([MigrationProblem(code, field, reason)])
