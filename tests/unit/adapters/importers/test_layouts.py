"""The layout of a token file is read from its content, never from its name."""

from __future__ import annotations

import pytest

from tests.unit.adapters.importers import rfc6030_figures as rfc
from twostep.adapters.importers import ImportRefused, detect, read_token_file

HEX = "3132333435363738393031323334353637383930"


@pytest.mark.parametrize(
    ("data", "layout"),
    [
        (rfc.FIGURE_3, "pskc"),
        (b"\xef\xbb\xbf\n  " + rfc.FIGURE_3.split(b"?>", 1)[1], "pskc"),  # BOM, no declaration
        (b"S1,JBSWY3DPEHPK3PXP,30\n", "csv"),
        (b"upn,serial number,secret key,time interval,manufacturer,model\n", "csv"),
        (b"# vendor export\nS1;JBSWY3DPEHPK3PXP;60\n", "csv"),
        (f"S1,{HEX},totp,6,30\n".encode(), "oathcsv"),
        (f"S1,{HEX},HOTP\n".encode(), "oathcsv"),
        (b"LOGGING START,12/05/26 02:00\n", "yubico"),
        (
            f"OATH-HOTP,12/05/26 02:00,2,vvcccccccccb,,{HEX},,,0,0,0,6,0,0,0,0,0,0\n".encode(),
            "yubico",
        ),
        (f"5551234,,0,{HEX},000000000000,2026-12-05T02:00:00,\n".encode(), "yubico"),
        (b"", "csv"),
    ],
)
def test_the_layout_comes_from_the_content(data: bytes, layout: str) -> None:
    assert detect(data) == layout


def test_a_pskc_file_named_like_a_text_file_is_read_as_pskc() -> None:
    # multiOTP writes PSKC to pskc-*.txt: the name says nothing about the content.
    read = read_token_file(rfc.FIGURE_3)
    assert read.layout == "pskc"
    assert [r.serial for r in read.records] == ["987654321"]


def test_a_named_format_overrides_the_content() -> None:
    with pytest.raises(ImportRefused) as caught:
        read_token_file(rfc.FIGURE_3, "csv")
    assert caught.value.problems[0].line == 1


def test_a_key_for_a_file_that_is_not_pskc_is_refused() -> None:
    with pytest.raises(ImportRefused) as caught:
        read_token_file(b"S1,JBSWY3DPEHPK3PXP,30\n", key=bytes(16))
    assert "reads as csv" in caught.value.message


@pytest.mark.parametrize(
    "data",
    [b"OATH-HOTP\n", b"Yubico OTP\n", b'"unterminated\n', b"\xff\xfe<\x00", b"1,2,hotp\n", b"#\n"],
)
def test_a_truncated_or_odd_file_is_refused_never_a_crash(data: bytes) -> None:
    with pytest.raises(ImportRefused):
        read_token_file(data)
