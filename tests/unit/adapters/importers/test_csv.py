"""CSV import: the vendor and wide layouts, optional columns, and every error with its line."""

from __future__ import annotations

import base64

import pytest

from twostep.adapters.importers import ImportRefused, layouts, read_csv, read_csv_lines
from twostep.domain.entities import OtpAlgorithm, OtpType

SEED = b"12345678901234567890"
B32 = base64.b32encode(SEED).decode()  # GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
SEED2 = bytes(range(10, 30))
B32_2 = base64.b32encode(SEED2).decode()


def problems(data: str | bytes) -> list[tuple[int | None, str]]:
    with pytest.raises(ImportRefused) as caught:
        read_csv(data)
    return [(p.line, p.reason) for p in caught.value.problems]


def test_vendor_layout_without_header() -> None:
    first, second = read_csv(f"S1,{B32},30\nS2,{B32_2},60\n")
    assert (first.serial, first.seed, first.params.period, first.line) == ("S1", SEED, 30, 1)
    assert (second.serial, second.seed, second.params.period, second.line) == ("S2", SEED2, 60, 2)
    assert first.params.type is OtpType.TOTP
    assert first.upn is None


def test_vendor_layout_with_header_bom_crlf_and_base32_forms() -> None:
    spaced = " ".join(B32[i : i + 4] for i in range(0, len(B32), 4)).lower()
    unpadded = base64.b32encode(SEED2[:16]).decode().rstrip("=")
    data = (
        "\ufeffSerial Number,Secret Key,Time Interval\r\n"
        f"S1,{spaced},30\r\n\r\n# a comment\r\nS2,{unpadded},30\r\n"
    ).encode()
    first, second = read_csv(data)
    assert first.seed == SEED
    assert second.seed == SEED2[:16]
    assert (first.line, second.line) == (2, 5)


def test_wide_layout_with_and_without_header() -> None:
    rows = f"alice,S1,{B32},30,Acme,T30\n,S2,{B32_2},60,Acme,T60\n"
    for data in (rows, "upn,serial number,secret key,time interval,manufacturer,model\n" + rows):
        alice, pool = read_csv(data)
        assert (alice.upn, alice.manufacturer, alice.model) == ("alice", "Acme", "T30")
        assert pool.upn is None
        assert pool.params.period == 60


def test_optional_columns_hotp_and_any_order() -> None:
    data = (
        "type;counter;serial;secret;digits;algorithm\n"
        f"HOTP;17;H1;{B32};8;sha256\n"
        f"totp;;T1;{B32_2};6;HMAC-SHA512\n"
    )
    hotp, totp = read_csv(data)
    assert hotp.params.type is OtpType.HOTP
    assert (hotp.counter, hotp.params.digits, hotp.params.algorithm) == (17, 8, OtpAlgorithm.SHA256)
    assert totp.params.algorithm is OtpAlgorithm.SHA512
    assert totp.params.period == 30


def test_headerless_wide_layout_with_optional_columns() -> None:
    (record,) = read_csv(f"bob,H9,{B32},,Acme,M1,8,SHA1,hotp,5\n")
    assert (record.upn, record.counter, record.params.digits) == ("bob", 5, 8)


def test_tab_delimited() -> None:
    assert read_csv(f"S1\t{B32}\t30\n")[0].serial == "S1"


def test_every_bad_row_is_reported_with_its_line() -> None:
    data = "\n".join(
        [
            "serial,secret,interval,digits,algorithm,type,counter",
            f"OK1,{B32},30,6,SHA1,TOTP,",  # 2: fine
            f",{B32},30,,,,",  # 3: no serial
            "BAD32,not base32!,30,,,,",  # 4
            "SHORT,GEZDG,30,,,,",  # 5: too short
            f"P45,{B32},45,,,,",  # 6
            f"D7,{B32},30,7,,,",  # 7
            f"MD5,{B32},30,,MD5,,",  # 8
            f"OCRA,{B32},30,,,OCRA,",  # 9
            f"HNEG,{B32},30,,,HOTP,-1",  # 10
            f"TC,{B32},30,,,TOTP,9",  # 11
            f"OK1,{B32_2},30,,,,",  # 12: duplicate of line 2
            "NOSECRET,,30,,,,",  # 13
            f"WIDE,{B32},30,,,,,extra",  # 14
            f"TWO,{B32},x,9,,,",  # 15: two problems
        ]
    )
    found = problems(data)
    lines = [line for line, _ in found]
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15]
    reasons = dict(found)
    assert "serial number is missing" in reasons[3]
    assert "not valid base32" in reasons[4]
    assert "10 to 128 bytes" in reasons[5]
    assert "30 or 60" in reasons[6]
    assert "6 or 8" in reasons[7]
    assert "SHA1, SHA256 or SHA512" in reasons[8]
    assert "TOTP or HOTP" in reasons[9]
    assert "counter" in reasons[10]
    assert "only for HOTP" in reasons[11]
    assert reasons[12] == "serial OK1 is already on line 2"
    assert "secret key is missing" in reasons[13]
    assert "8 columns" in reasons[14]


def test_the_refusal_message_names_lines_and_never_a_secret() -> None:
    with pytest.raises(ImportRefused) as caught:
        read_csv(f"S1,{B32},45\nS1,{B32},30\n")
    message = caught.value.message
    assert "line 1: the time interval must be 30 or 60 seconds" in message
    assert "line 2: serial S1 is already on line 1" in message
    assert B32 not in message
    assert caught.value.code == "import_refused"


def test_header_problems() -> None:
    understood = (None, layouts.UNDERSTOOD)
    assert problems("serial,secret,colour\n") == [
        (1, "unknown column 'colour' in the header"),
        understood,
    ]
    assert problems("serial,interval\nS1,30\n") == [
        (1, "the header has no secret key column"),
        understood,
    ]


def test_headerless_width_must_fit_a_layout() -> None:
    (line, reason), understood = problems(f"\n\nS1,{B32},30,6\n")
    assert line == 3
    assert "3 columns" in reason
    assert understood == (None, layouts.UNDERSTOOD)


def test_a_file_in_no_known_layout_stops_after_a_few_rows() -> None:
    found = problems("".join(f"row {n};x;y\n" for n in range(500)))
    assert {line for line, _ in found} == {1, 2, 3, 4, 5, None}
    assert found[-1][0] is None
    assert "stopped after 5 rows" in found[-1][1]
    assert "Entra ID" in found[-1][1]
    assert "Yubico" in found[-1][1]


def test_bad_rows_after_a_good_one_are_all_listed() -> None:
    data = f"S0,{B32},30\n" + "".join(f"S{n},{B32},45\n" for n in range(1, 21))
    assert len(problems(data)) == 20


def test_empty_file_and_bad_encoding() -> None:
    assert problems("") == [(None, "the file holds no tokens")]
    assert problems(f"S1,{B32},30\n".encode() + b"S2,\xff\xfe,30\n") == [
        (2, "the file is not UTF-8 text")
    ]


def test_an_oversized_field_is_a_csv_error() -> None:
    ((line, reason),) = problems(f"S1,{B32},30\nS2," + "A" * 200_000 + ",30\n")
    assert line == 2
    assert "not valid CSV" in reason


def test_read_csv_lines_streams_from_an_iterable() -> None:
    def lines() -> object:
        for n in range(1000):
            yield f"S{n},{B32},30\n"

    records = read_csv_lines(lines())  # type: ignore[arg-type]
    assert len(records) == 1000
    assert records[-1].line == 1000
