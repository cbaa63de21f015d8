"""Phone numbers are stored in E.164 and validated with phonenumbers."""

from __future__ import annotations

import phonenumbers

from twostep.domain.errors import InvalidPhoneNumber


def normalize_phone(raw: str) -> str:
    """Return ``raw`` in E.164 (``+14155550123``) or raise InvalidPhoneNumber.

    A number must carry its country calling code: a tenant spans countries, so
    there is no safe default region to guess from.
    """
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(
            "phone must be an international number such as +14155550123", field="phone"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("phone is not a valid number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """Keep the country code and the last four digits: ``+1 ••• 4567``."""
    number = phonenumbers.parse(e164, None)
    return f"+{number.country_code} \u2022\u2022\u2022 {e164[-4:]}"
