"""MFA Server's phone numbers as its SDK gives them (a country calling code, a national
number, an extension) to E.164 with the extension apart. The extension may also be
written inline: ``555-123-4567 x890``, ``ext. 890``, ``#890``."""

from __future__ import annotations

import re
from typing import NamedTuple

import phonenumbers

from twostep.domain.migration import Phone

INVALID_PHONE = "invalid_phone"
INVALID_EXTENSION = "invalid_extension"

_INLINE_EXTENSION = re.compile(
    r"^(?P<number>.*?[0-9])\s*(?:x|ext\.?|extension|#)\s*(?P<ext>[0-9]+)\s*$", re.IGNORECASE
)
_EXTENSION = re.compile(r"^[0-9]{1,10}$")  # ASCII digits: a keypad's
_COUNTRY_CODE = re.compile(r"^\+?[0-9]{1,3}$")


class Fields(NamedTuple):
    """The document's names for one phone's parts (the phone's or the backup phone's)."""

    number: str
    country: str
    extension: str


class PhoneProblem(Exception):
    def __init__(self, code: str, field: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.field = field
        self.reason = reason


def read_phone(
    number: str | None, country: str | None, extension: str | None, fields: Fields
) -> Phone | None:
    """The phone, None when there is no number, or PhoneProblem naming the field."""
    if number is None:
        if extension is not None:
            raise PhoneProblem(
                INVALID_EXTENSION, fields.extension, f"an extension needs {fields.number}"
            )
        return None
    inline = _INLINE_EXTENSION.match(number)
    if inline is not None:
        number = inline["number"]
        if extension is not None and extension != inline["ext"]:
            why = f"{fields.number} ends with x{inline['ext']}, {fields.extension} is {extension}"
            raise PhoneProblem(INVALID_EXTENSION, fields.extension, why)
        extension = inline["ext"]
    if extension is not None and not _EXTENSION.match(extension):
        raise PhoneProblem(INVALID_EXTENSION, fields.extension, "an extension is 1 to 10 digits")
    return Phone(_e164(number, country, fields), extension)


def _e164(number: str, country: str | None, fields: Fields) -> str:
    region: str | None = None
    if country is not None:
        if not _COUNTRY_CODE.match(country):
            why = f"{country[:10]!r} is not a country calling code"
            raise PhoneProblem(INVALID_PHONE, fields.country, why)
        region = phonenumbers.region_code_for_country_code(int(country.lstrip("+")))
        if region == phonenumbers.UNKNOWN_REGION:
            why = f"+{country.lstrip('+')} is no country's code"
            raise PhoneProblem(INVALID_PHONE, fields.country, why)
    international = number.startswith("+")
    if not international and region is None:
        why = f"{number[:32]!r} has no country: give {fields.country}, or write +<code>..."
        raise PhoneProblem(INVALID_PHONE, fields.number, why)
    try:
        parsed = phonenumbers.parse(number[:64], None if international else region)
    except phonenumbers.NumberParseException:
        why = f"{number[:32]!r} is not a phone number"
        raise PhoneProblem(INVALID_PHONE, fields.number, why) from None
    if country is not None and parsed.country_code != int(country.lstrip("+")):
        why = f"{number[:32]!r} is a +{parsed.country_code} number, {fields.country} is {country}"
        raise PhoneProblem(INVALID_PHONE, fields.number, why)
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneProblem(INVALID_PHONE, fields.number, f"{number[:32]!r} is not a valid number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
