"""What ``activate`` accepts: URL and code, or the QR's twostep:// text."""

from __future__ import annotations

import pytest

from twostep.authenticator.errors import InvalidActivation
from twostep.authenticator.uri import normalise_code, parse, split_url

DOC_URI = (
    "twostep://activate?url=https%3A%2F%2Fmfa.example.com%2Fv1%2Fdevices%2Factivate"
    "&code=K7PQ9ZRM2XTVHW4N"
)


def test_the_documented_qr_text() -> None:
    target = parse(DOC_URI)
    assert target.base_url == "https://mfa.example.com"
    assert target.activation_url == "https://mfa.example.com/v1/devices/activate"
    assert target.code == "K7PQ9ZRM2XTVHW4N"


def test_url_and_code_with_dashes_and_lower_case() -> None:
    target = parse("https://mfa.example.com/v1/devices/activate", "k7pq-9zrm 2xtv-hw4n")
    assert target.code == "K7PQ9ZRM2XTVHW4N"
    assert target.base_url == "https://mfa.example.com"


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://mfa.example.com", "https://mfa.example.com"),
        ("https://mfa.example.com/", "https://mfa.example.com"),
        ("HTTP://127.0.0.1:8080/v1/devices/activate/", "http://127.0.0.1:8080"),
        ("https://example.com/mfa/v1/devices/activate", "https://example.com/mfa"),
    ],
)
def test_the_base_url_is_what_precedes_the_activation_path(url: str, base: str) -> None:
    assert split_url(url) == (base, base + "/v1/devices/activate")


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        (DOC_URI, "K7PQ9ZRM", "either"),
        ("https://mfa.example.com", None, "code is needed"),
        ("twostep://enroll?url=https%3A%2F%2Fa&code=X1234", None, "not a Twostep"),
        ("twostep://activate?url=https%3A%2F%2Fa", None, "exactly one"),
        ("twostep://activate?url=a&url=b&code=ABCD", None, "exactly one"),
        ("ftp://mfa.example.com", "ABCD1234", "http"),
        ("https://mfa.example.com/?x=1", "ABCD1234", "no query"),
        ("https://mfa.example.com", "AB", "letters and digits"),
        ("https://mfa.example.com", "ABCD+1234", "letters and digits"),
    ],
)
def test_refused(text: str, code: str | None, message: str) -> None:
    with pytest.raises(InvalidActivation, match=message):
        parse(text, code)


def test_normalise_code() -> None:
    assert normalise_code(" k7pq-9zrm ") == "K7PQ9ZRM"
