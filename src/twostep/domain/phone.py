"""Phone numbers are stored in E.164 and validated with phonenumbers."""

from __future__ import annotations

import functools

import phonenumbers

from twostep.domain.errors import InvalidPhoneNumber, NumberNotAllowed


def normalise_phone(raw: str) -> str:
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


@functools.lru_cache(maxsize=4096)
def _parsed(e164: str) -> phonenumbers.PhoneNumber:
    """A stored (E.164) number parsed once: a migration masks and checks each of 50,000
    numbers several times. Callers only read the result."""
    return phonenumbers.parse(e164, None)


@functools.lru_cache(maxsize=4096)
def _number_type(e164: str) -> int:
    return int(phonenumbers.number_type(_parsed(e164)))


def mask_phone(e164: str) -> str:
    """Keep the country code and the last four digits: ``+1 ••• 4567``."""
    number = _parsed(e164)
    return f"+{number.country_code} \u2022\u2022\u2022 {e164[-4:]}"


# Number types that can take a text message: a fixed line cannot, and premium-rate or
# shared-cost ranges are where SMS pumping sends its traffic.
_TEXTABLE = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
# Calls may go to fixed lines too; toll fraud calls premium-rate and shared-cost ranges.
_CALLABLE = _TEXTABLE | {
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.TOLL_FREE,
}


def check_destination(e164: str, *, texts: bool, allowed_calling_codes: tuple[str, ...]) -> None:
    """Refuse a number the tenant does not send to: a country outside its allow-list, or
    a number type that cannot take the message (or that toll fraud favours)."""
    number = _parsed(e164)
    if allowed_calling_codes and str(number.country_code) not in allowed_calling_codes:
        raise NumberNotAllowed(
            f"numbers with country code +{number.country_code} are not allowed in this tenant",
            field="phone",
        )
    kind = _number_type(e164)
    if kind not in (_TEXTABLE if texts else _CALLABLE):
        what = "text messages" if texts else "calls"
        raise NumberNotAllowed(
            f"this number cannot take {what} (it is not a mobile number, or it is premium-rate)",
            field="phone",
        )
