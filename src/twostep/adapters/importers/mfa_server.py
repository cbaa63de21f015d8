"""Azure MFA Server's users, as ``contrib/mfa-server-export.ps1`` writes them: a JSON
document or a CSV file, one record per user. A pure reader: bytes in, validated records
out, all or nothing (docs/migrating-from-mfa-server.md describes the format).

Field names follow the Web Service SDK's calls: ``FindUsers_3`` (username, firstName,
lastName, email, userGroup), ``GetPhone`` (countryCode, phone, extension and the backup
phone's), ``GetUserSettings_2`` (defaultMethod, mode, textMessageMode, language, the
OATH token's serial, secret and interval) and ``GetUserDevices`` (mobileAppDevices).

Every refusal names the record (JSON: ``record N``, from 1; CSV: ``line N``), its
username when it has one, the field, and a stable code. A secret's value is never quoted.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from twostep.adapters.importers import mfa_server_phones as phones
from twostep.adapters.importers import rules
from twostep.domain.errors import InvalidInput
from twostep.domain.migration import (
    DefaultMethod,
    MfaServerUser,
    MigrationProblem,
    MigrationRefused,
    OathSeed,
    Phone,
    PinMode,
    TextMode,
)
from twostep.domain.names import name_key, new_user_name
from twostep.factors.otp import parse_seed

DocumentFormat = Literal["json", "csv"]
FORMAT_NAME = "mfa-server-users"  # the JSON document's "format"
VERSION = 1
MAX_RECORDS = 250_000

# Problem codes (stable; docs/error-codes.md lists them).
INVALID_DOCUMENT = "invalid_document"
TOO_MANY_RECORDS = "too_many_records"
MISSING_FIELD = "missing_field"
UNKNOWN_FIELD = "unknown_field"
INVALID_VALUE = "invalid_value"
INVALID_USERNAME = "invalid_username"
INVALID_PHONE = phones.INVALID_PHONE
INVALID_EXTENSION = phones.INVALID_EXTENSION
INVALID_SECRET = "invalid_secret"  # noqa: S105 - a problem code
DUPLICATE_USER = "duplicate_user"
DUPLICATE_SERIAL = "duplicate_serial"

SECRET_FIELD = "oathTokenSecretKey"  # noqa: S105 - a field name
FIELDS = (
    "username",
    "firstName",
    "lastName",
    "email",
    "userGroup",
    "countryCode",
    "phone",
    "extension",
    "backupCountryCode",
    "backupPhone",
    "backupExtension",
    "defaultMethod",
    "mode",
    "textMessageMode",
    "language",
    "oathTokenSerialNumber",
    SECRET_FIELD,
    "oathTokenTimeInterval",
    "mobileAppDevices",
)
_BY_KEY = {f.lower(): f for f in FIELDS}

# MFA Server's names for its choices, as the SDK and its admin console spell them,
# compared without case, spaces, "_", "-" or "+".
_DEFAULT_METHODS = {
    **dict.fromkeys(("phonecall", "phone", "call", "voice", "standard"), DefaultMethod.PHONE_CALL),
    **dict.fromkeys(("textmessage", "text", "sms", "smsotp"), DefaultMethod.TEXT_MESSAGE),
    **dict.fromkeys(("mobileapp", "phoneapp", "app", "push"), DefaultMethod.MOBILE_APP),
    **dict.fromkeys(("oathtoken", "oath", "token"), DefaultMethod.OATH_TOKEN),
}
_MODES = {"standard": PinMode.STANDARD, "pin": PinMode.PIN, "pinmode": PinMode.PIN}
_TEXT_MODES = {"otp": TextMode.OTP, "otppin": TextMode.OTP_PIN}
_COUNT = re.compile(r"[0-9]{1,7}")  # ASCII digits only: int() reads other scripts' too
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")
_MAX_TEXT = {"firstName": 128, "lastName": 128, "email": 320, "userGroup": 256}


def detect(data: bytes) -> DocumentFormat:
    """JSON when the content starts with ``{``, else CSV: never the file's name."""
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "json" if head.startswith((b"{", b"[")) else "csv"


def read_mfa_server(data: bytes, fmt: DocumentFormat | None = None) -> list[MfaServerUser]:
    """Every user of the document, or MigrationRefused listing every problem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MigrationRefused.single(INVALID_DOCUMENT, "the document is not UTF-8 text") from None
    rows = _json_rows(text) if (fmt or detect(data)) == "json" else _csv_rows(text)
    problems: list[MigrationProblem] = []
    users: list[MfaServerUser] = []
    names: dict[str, str] = {}  # lookup key -> where first
    serials: dict[str, str] = {}
    for count, (place, row) in enumerate(rows, start=1):
        if count > MAX_RECORDS:
            reason = f"the document holds more than {MAX_RECORDS} records: split it"
            raise MigrationRefused([*problems, MigrationProblem(TOO_MANY_RECORDS, None, reason)])
        record = _Record(place, row)
        user = record.read()
        problems.extend(record.problems)
        if user is None:
            continue
        key = name_key(user.username)
        if key in names:
            problems.append(record.problem(DUPLICATE_USER, "username", f"also {names[key]}"))
            continue
        names[key] = user.where
        if user.oath is not None:
            first = serials.setdefault(user.oath.serial, user.where)
            if first != user.where:
                why = f"serial {user.oath.serial} is also {first}'s"
                problems.append(record.problem(DUPLICATE_SERIAL, "oathTokenSerialNumber", why))
                continue
        users.append(user)
    if problems:
        raise MigrationRefused(problems)
    if not users:
        raise MigrationRefused.single(INVALID_DOCUMENT, "the document holds no users")
    return users


def _json_rows(text: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = f"the document is not valid JSON: {str(exc)[:120]}"
        raise MigrationRefused.single(INVALID_DOCUMENT, reason) from None
    if not isinstance(document, dict) or not isinstance(document.get("users"), list):
        reason = 'the document is a JSON object with a "users" list'
        raise MigrationRefused.single(INVALID_DOCUMENT, reason)
    if document.get("format", FORMAT_NAME) != FORMAT_NAME:
        reason = f'"format" is {FORMAT_NAME!r} (a document of MFA Server users)'
        raise MigrationRefused.single(INVALID_DOCUMENT, reason, field="format")
    if document.get("version", VERSION) != VERSION:
        reason = f'"version" {document.get("version")!r} is not understood (only {VERSION})'
        raise MigrationRefused.single(INVALID_DOCUMENT, reason, field="version")
    for index, row in enumerate(document["users"], start=1):
        yield f"record {index}", row if isinstance(row, dict) else {"": row}


def _csv_rows(text: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: list[str] | None = None
    try:
        for cells in reader:
            stripped = [c.strip() for c in cells]
            if not any(stripped) or stripped[0].startswith("#"):
                continue
            if columns is None:
                columns = _header(stripped)
                continue
            place = f"line {reader.line_num}"
            if len(stripped) > len(columns):
                yield place, {"": f"{len(stripped)} columns, the header has {len(columns)}"}
                continue
            yield place, dict(zip(columns, stripped, strict=False))
    except csv.Error as exc:
        reason = f"line {reader.line_num} is not valid CSV: {exc}"
        raise MigrationRefused.single(INVALID_DOCUMENT, reason) from None


def _header(cells: list[str]) -> list[str]:
    columns: list[str] = []
    problems: list[MigrationProblem] = []
    for cell in cells:
        name = _BY_KEY.get(_squash(cell).replace("+", ""))
        if name is None:
            why = f"unknown column {cell[:40]!r}: the header names the fields ({', '.join(FIELDS)})"
            problems.append(MigrationProblem(UNKNOWN_FIELD, cell[:40], why, place="line 1"))
        elif name in columns:
            why = f"column {name} appears twice in the header"
            problems.append(MigrationProblem(INVALID_DOCUMENT, name, why, place="line 1"))
        columns.append(name or "")
    if "username" not in columns:
        why = "the first line is a header naming the columns, username among them"
        problems.append(MigrationProblem(MISSING_FIELD, "username", why, place="line 1"))
    if problems:
        raise MigrationRefused(problems)
    return columns


def _has_control(text: str) -> bool:
    if text.isascii():  # the common case, fast: ASCII is printable or a control character
        return not text.isprintable()
    return any(unicodedata.category(ch).startswith("C") for ch in text)


# A UPN or sAMAccountName of ASCII letters, digits and the punctuation they use: its
# display form is itself (tests hold this equal to domain.names), without the full
# PRECIS check, which costs ~0.1 ms a name (5 s over 50,000 users).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+'-]{0,127}")


def plain_username(raw: str) -> str:
    """The display form of a user name, as ``domain.names.new_user_name`` gives it."""
    if _PLAIN_NAME.fullmatch(raw):
        return raw
    return new_user_name(raw).display


def _squash(text: str) -> str:
    return re.sub(r"[\s_\-]", "", text).lower()


class _Record:
    """One record's fields, checked one by one; ``problems`` holds each refusal."""

    def __init__(self, place: str, row: Mapping[str, Any]) -> None:
        self.place = place
        self.row = row
        self.username: str | None = None
        self.problems: list[MigrationProblem] = []

    def problem(self, code: str, field: str | None, reason: str) -> MigrationProblem:
        return MigrationProblem(code, field, reason, place=self.place, username=self.username)

    def refuse(self, code: str, field: str | None, reason: str) -> None:
        self.problems.append(self.problem(code, field, reason))

    def text(self, field: str) -> str | None:
        value = self.row.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.refuse(INVALID_VALUE, field, "is not text")
            return None
        text = str(value).strip()
        if _has_control(text):
            shown = "" if field == SECRET_FIELD else f" ({text[:40]!r})"
            self.refuse(INVALID_VALUE, field, f"holds a control character{shown}")
            return None
        return text

    def read(self) -> MfaServerUser | None:
        if "" in self.row:  # not an object, or a CSV row wider than the header
            self.refuse(INVALID_VALUE, None, f"is not a record of fields: {self.row['']!s:.60}")
            return None
        raw_name = self.text("username")
        if raw_name is None:
            if not self.problems or self.problems[-1].field != "username":  # else: refused
                self.refuse(MISSING_FIELD, "username", "the UPN (or sAMAccountName) is missing")
            return None
        try:
            self.username = plain_username(raw_name)
        except InvalidInput as exc:
            self.username = raw_name[:64]
            self.refuse(INVALID_USERNAME, "username", exc.message)
            return None
        for key in self.row:
            if key not in FIELDS:
                self.refuse(UNKNOWN_FIELD, str(key)[:40], f"is not a field ({', '.join(FIELDS)})")
        texts = {field: self._bounded(field) for field in _MAX_TEXT}
        user = MfaServerUser(
            place=self.place,
            username=self.username,
            first_name=texts["firstName"],
            last_name=texts["lastName"],
            email=texts["email"],
            group=texts["userGroup"],
            language=self._language(),
            phone=self._phone("countryCode", "phone", "extension"),
            backup_phone=self._phone("backupCountryCode", "backupPhone", "backupExtension"),
            default_method=self._choice(
                "defaultMethod", _DEFAULT_METHODS, DefaultMethod.PHONE_CALL
            ),
            mode=self._choice("mode", _MODES, PinMode.STANDARD),
            text_mode=self._choice("textMessageMode", _TEXT_MODES, TextMode.OTP),
            oath=self._oath(),
            app_devices=self._count("mobileAppDevices"),
        )
        return None if self.problems else user

    def _bounded(self, field: str) -> str | None:
        text = self.text(field)
        if text is not None and len(text) > _MAX_TEXT[field]:
            self.refuse(INVALID_VALUE, field, f"is longer than {_MAX_TEXT[field]} characters")
            return None
        return text

    def _language(self) -> str | None:
        text = self.text("language")
        if text is None:
            return None
        if not _LANGUAGE.match(text):
            self.refuse(
                INVALID_VALUE, "language", f"{text[:20]!r} is not a language tag (en, de-CH)"
            )
            return None
        return text.replace("_", "-")

    def _choice(self, field: str, choices: Mapping[str, Any], default: Any) -> Any:
        text = self.text(field)
        if text is None:
            return default
        found = choices.get(_squash(text).replace("+", ""))
        if found is None:
            names = ", ".join(sorted({c.value for c in choices.values()}))
            self.refuse(INVALID_VALUE, field, f"{text[:30]!r} is not one of {names}")
            return default
        return found

    def _count(self, field: str) -> int:
        text = self.text(field)
        if text is None:
            return 0
        if not _COUNT.fullmatch(text) or int(text) > 1000:
            self.refuse(INVALID_VALUE, field, f"{text[:20]!r} is not a count of devices")
            return 0
        return int(text)

    def _phone(self, cc_field: str, number_field: str, ext_field: str) -> Phone | None:
        try:
            return phones.read_phone(
                self.text(number_field),
                self.text(cc_field),
                self.text(ext_field),
                phones.Fields(number_field, cc_field, ext_field),
            )
        except phones.PhoneProblem as problem:
            self.refuse(problem.code, problem.field, problem.reason)
            return None

    def _oath(self) -> OathSeed | None:
        serial = self.text("oathTokenSerialNumber")
        secret = self.text(SECRET_FIELD)
        interval = self.text("oathTokenTimeInterval")
        if serial is None and secret is None:
            if interval is not None:
                self.refuse(MISSING_FIELD, "oathTokenSerialNumber", "an interval needs a token")
            return None
        if serial is None or secret is None:
            missing = "oathTokenSerialNumber" if serial is None else SECRET_FIELD
            self.refuse(MISSING_FIELD, missing, "an OATH token needs its serial and secret key")
            return None
        try:
            checked = rules.check_serial(serial)
        except ValueError as exc:
            self.refuse(INVALID_VALUE, "oathTokenSerialNumber", str(exc))
            return None
        try:
            seed = parse_seed(secret)
        except ValueError as exc:  # the reason never quotes the secret
            self.refuse(INVALID_SECRET, SECRET_FIELD, str(exc))
            return None
        period = 30
        if interval is not None:
            if not _COUNT.fullmatch(interval) or int(interval) not in rules.SUPPORTED_PERIODS:
                self.refuse(INVALID_VALUE, "oathTokenTimeInterval", "is 30 or 60 seconds")
                return None
            period = int(interval)
        return OathSeed(checked, seed, period)
