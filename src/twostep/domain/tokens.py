"""Hardware tokens read from vendor files: records, or the problems that refused the file.

Seeds never appear in a repr, a message or an exception: a ``TokenRecord`` hides its
seed, and problem reasons never quote a secret column or a decrypted value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twostep.domain.entities import OtpParams
from twostep.domain.errors import InvalidInput

# How many problems the exception's message spells out; ``problems`` holds them all.
SHOWN_PROBLEMS = 20


@dataclass(frozen=True, slots=True, repr=False)
class TokenRecord:
    """One hardware token read from a vendor file, validated and ready to store."""

    serial: str
    seed: bytes
    params: OtpParams
    counter: int = 0  # HOTP: the next counter the token will use
    manufacturer: str | None = None
    model: str | None = None
    valid_from: float | None = None  # epoch seconds
    valid_until: float | None = None  # epoch seconds
    upn: str | None = None  # CSV wide layout: the user to assign the token to
    line: int | None = None  # CSV: the line the token was read from
    key_id: str | None = None  # PSKC: the key's Id attribute
    drift: int = 0  # TOTP: steps the token's clock is off (PSKC TimeDrift)

    def __repr__(self) -> str:
        return (
            f"TokenRecord(serial={self.serial!r}, seed=<{len(self.seed)} bytes hidden>, "
            f"params={self.params!r}, counter={self.counter!r}, "
            f"manufacturer={self.manufacturer!r}, model={self.model!r}, "
            f"valid_from={self.valid_from!r}, valid_until={self.valid_until!r}, "
            f"upn={self.upn!r}, line={self.line!r}, key_id={self.key_id!r}, "
            f"drift={self.drift!r})"
        )

    @property
    def where(self) -> str:
        return _where(self.line, self.key_id, self.serial)


def _where(
    line: int | None, key_id: str | None, serial: str | None, position: int | None = None
) -> str:
    if line is not None:
        return f"line {line}"
    if key_id is not None and serial is not None and key_id != serial:
        return f"key {key_id} (serial {serial})"
    if key_id is not None:
        return f"key {key_id}"
    if serial is not None:
        return f"serial {serial}"
    if position is not None:
        return f"key #{position}"
    return "file"


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """Why one row or key (or the whole file, when no place is given) was refused."""

    reason: str
    line: int | None = None  # CSV
    key_id: str | None = None  # PSKC
    serial: str | None = None  # PSKC
    position: int | None = None  # PSKC: the key's place in the file (1 for the first)

    @property
    def where(self) -> str:
        """``line 7``, ``key 12345678 (serial 987654321)``, ``key #3`` or ``file``."""
        return _where(self.line, self.key_id, self.serial, self.position)

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A key or row the file holds that Twostep does not use (a PIN, a Yubico OTP slot):
    left out of the import and listed in its summary."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class TokenFile:
    """What a token file holds: the tokens to import, what was left out, and what the
    operator should know (each note names the key or line)."""

    records: list[TokenRecord]
    skipped: tuple[Skipped, ...] = ()
    warnings: tuple[str, ...] = ()
    layout: str | None = None  # pskc, csv, oathcsv, yubico: as read


class ImportRefused(InvalidInput):
    """The file was refused and nothing was imported."""

    code = "import_refused"

    def __init__(
        self, problems: Sequence[ImportProblem], *, valid: Sequence[TokenRecord] = ()
    ) -> None:
        if not problems:
            raise ValueError("an import is refused for at least one problem")
        self.problems: tuple[ImportProblem, ...] = tuple(problems)
        # The rows that were fine, so the caller can list their problems too (a serial
        # already stored, say) in the same answer.
        self.valid: tuple[TokenRecord, ...] = tuple(valid)
        count = len(self.problems)
        listed = "; ".join(str(p) for p in self.problems[:SHOWN_PROBLEMS])
        more = f"; and {count - SHOWN_PROBLEMS} more" if count > SHOWN_PROBLEMS else ""
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"the file was refused, nothing imported ({count} {noun}): {listed}{more}")

    @classmethod
    def single(cls, reason: str, *, line: int | None = None) -> ImportRefused:
        """A refusal for one problem: of the whole file, or of one line."""
        return cls([ImportProblem(reason, line=line)])
