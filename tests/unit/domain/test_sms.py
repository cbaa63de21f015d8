"""What a text costs: SMS segments by alphabet and length, the destination's country."""

from __future__ import annotations

import pytest

from twostep.domain.sms import country_of, segments


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 1),
        ("a" * 160, 1),  # GSM 03.38: 160 in one segment
        ("a" * 161, 2),  # then 153 per segment
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # the extension table's characters take two septets
        ("€" * 81, 2),
        ("é" * 160, 1),  # in the basic table
        ("ж" * 70, 1),  # any other character: UCS-2, 70 in one segment
        ("ж" * 71, 2),  # then 67 per segment
        ("a" * 134 + "ж", 3),  # one such character makes the whole text UCS-2
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_segments_follow_the_alphabet_and_the_length(text: str, parts: int) -> None:
    assert segments(text) == parts


@pytest.mark.parametrize(
    ("destination", "country"),
    [
        ("+14155550123", "US"),
        ("+4915112345678", "DE"),
        ("+442079460000", "GB"),
        ("+33612345678", "FR"),
        ("+80012345678", "ZZ"),  # an international freephone number: no one region
        ("alice@example.com", "ZZ"),  # an email
        ("+", "ZZ"),
        (None, "ZZ"),
    ],
)
def test_the_country_is_the_e164_numbers_region(destination: str | None, country: str) -> None:
    assert country_of(destination) == country
