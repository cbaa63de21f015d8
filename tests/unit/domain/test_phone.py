"""Phone numbers: stored in E.164, international form required, masked when shown."""

from __future__ import annotations

import pytest

from twostep.domain.errors import InvalidInput, InvalidPhoneNumber
from twostep.domain.phone import mask_phone, normalise_phone


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+14155550123", "+14155550123"),
        ("+1 415 555 0123", "+14155550123"),
        ("+1 (415) 555-0123", "+14155550123"),
        ("+1.415.555.0123", "+14155550123"),
        ("  +14155550123  ", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+44 (0)20 7946 0958", "+442079460958"),  # the national trunk prefix is dropped
        ("+49 151 12345678", "+4915112345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+81 90-1234-5678", "+819012345678"),
        ("00 44 20 7946 0958", None),  # without a '+' the international prefix is ambiguous
    ],
)
def test_numbers_are_normalised_to_e164(typed: str, e164: str | None) -> None:
    if e164 is None:
        with pytest.raises(InvalidPhoneNumber):
            normalise_phone(typed)
    else:
        assert normalise_phone(typed) == e164


def test_normalising_is_idempotent() -> None:
    once = normalise_phone("+44 20 7946 0958")
    assert normalise_phone(once) == once


@pytest.mark.parametrize(
    "typed",
    [
        "4155550123",  # no country code: a tenant spans countries, nothing to guess from
        "(415) 555-0123",
        "020 7946 0958",
        "",
        "   ",
        "+",
        "phone",
        "not a number",
    ],
)
def test_a_number_without_a_country_code_is_refused_with_a_hint(typed: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match=r"international number such as \+"):
        normalise_phone(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "+1415",  # too short
        "+1 415 555 01234567",  # too long
        "+1 011 555 0123",  # a US area code cannot start with 0
        "+44 20 7946",  # a UK number cut short
        "+999 1234 5678",  # no such country calling code
        "+0 123 456 789",
    ],
)
def test_an_invalid_international_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise_phone(typed)


def test_the_error_names_the_field_and_has_a_stable_code() -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalise_phone("4155550123")
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.field == "phone"
    assert caught.value.code == "invalid_phone_number"


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+14155550123", "+1 \u2022\u2022\u2022 0123"),
        ("+442079460958", "+44 \u2022\u2022\u2022 0958"),
        ("+4915112345678", "+49 \u2022\u2022\u2022 5678"),
        ("+3545511234", "+354 \u2022\u2022\u2022 1234"),
    ],
)
def test_a_masked_number_keeps_the_country_code_and_last_four_digits(
    e164: str, masked: str
) -> None:
    assert mask_phone(e164) == masked


def test_a_masked_number_hides_the_rest() -> None:
    masked = mask_phone("+14155550123")
    assert "415" not in masked
    assert "555" not in masked
