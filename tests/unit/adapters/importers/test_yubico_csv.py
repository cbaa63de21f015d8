"""The YubiKey Personalization Tool's log, traditional and Yubico formats, written here in
the layouts the tool writes (columns as its logger defines them)."""

from __future__ import annotations

import pytest

from tests.unit.adapters.importers.oath_codes import hotp_code
from twostep.adapters.importers import ImportRefused, read_yubico
from twostep.domain.entities import OtpType
from twostep.factors.otp import hotp

SLOT1 = bytes(range(1, 21))
SLOT2 = bytes(range(21, 41))
AES = bytes(range(16)).hex()


def traditional(event: str, slot: int, public: str, secret: str, digits: int, seed: int) -> str:
    # event, timestamp, slot, public id, private id, secret, current and new access code,
    # OATH fixed modhex (3 flags), HOTP digits, moving factor seed, 5 more flags
    return f"{event},12/05/26 02:00,{slot},{public},,{secret},,,0,0,0,{digits},{seed},0,0,0,0,0"


def yubico(serial: str, public: str, third: str, secret: str) -> str:
    # serial, public id, private id (Yubico OTP) or moving factor seed (OATH-HOTP), secret,
    # new access code, timestamp
    return f"{serial},{public},{third},{secret},000000000000,2026-12-05T02:00:00,"


def refusal(data: str) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read_yubico(data)
    for secret in (SLOT1.hex(), SLOT2.hex(), AES):  # no secret is ever quoted
        assert secret not in caught.value.message.lower()
    return caught.value


def test_traditional_log_two_oath_slots_of_one_key_and_a_yubico_otp_slot() -> None:
    data = "\n".join(
        [
            "LOGGING START,12/05/26 01:59",
            traditional("OATH-HOTP", 1, "vvccccccccbc", SLOT1.hex(), 8, 0),
            traditional("OATH-HOTP", 2, "vvccccccccbc", SLOT2.hex(), 6, 16),
            traditional("Yubico OTP", 1, "vvccccccccdd", AES, 0, 0),
            traditional("Static Password", 2, "", AES, 0, 0),
        ]
    )
    read = read_yubico(data)
    one, two = read.records
    assert [one.serial, two.serial] == ["vvccccccccbc:1", "vvccccccccbc:2"]
    assert (one.params.type, one.params.digits, two.params.digits) == (OtpType.HOTP, 8, 6)
    assert two.counter == 16 and one.manufacturer == "Yubico"
    assert hotp(one.seed, one.params, 0) == hotp_code(SLOT1, 0, 8)
    assert hotp(two.seed, two.params, 16) == hotp_code(SLOT2, 16, 6)
    assert [s.where for s in read.skipped] == ["line 4", "line 5"]
    assert read.warnings == (
        "line 2: slot 1 of a YubiKey with two: serial vvccccccccbc:1",
        "line 3: slot 2 of a YubiKey with two: serial vvccccccccbc:2",
    )


def test_yubico_format_oath_rows_and_the_digits_it_does_not_record() -> None:
    data = "\n".join(
        [
            "# OATH mode",
            yubico("5551234", "vvccccccccbc", "0", SLOT1.hex()),
            yubico("5551235", "", "0", SLOT2.hex()),
            "# Yubico mode",
            yubico("5551236", "vvccccccccdd", "0a1b2c3d4e5f", AES),
        ]
    )
    read = read_yubico(data)
    first, second = read.records
    assert second.serial == "5551235"
    assert (first.serial, first.params.digits) == ("5551234", 6)
    assert hotp(first.seed, first.params, 0) == hotp_code(SLOT1, 0)
    assert [s.where for s in read.skipped] == ["line 5"]
    looks_like_hmac, digits = read.warnings
    assert "6 (the tool's default) assumed" in digits and "5551234, 5551235" in digits
    assert looks_like_hmac.startswith("1 row(s) with no token identifier")
    assert looks_like_hmac.endswith(
        "challenge-response slot is logged too: imported as OATH-HOTP: 5551235 (line 3)"
    )


def test_rows_that_cannot_be_imported_are_refused_by_line() -> None:
    data = "\n".join(
        [
            traditional("OATH-HOTP", 1, "", SLOT1.hex(), 6, 0),  # no identity, no serial
            traditional("OATH-HOTP", 2, "vvccccccccbc", "zz" * 20, 6, 0),  # not hex
            traditional("OATH-HOTP", 2, "vvccccccccbd", SLOT1.hex(), 7, 0),  # 7 digits
            traditional("OATH-HOTP", 1, "vvccccccccbe", SLOT1.hex(), 6, 0),
            traditional("OATH-HOTP", 1, "vvccccccccbe", SLOT2.hex(), 6, 0),  # written twice
            "Mystery mode,12/05/26 02:00,1",
        ]
    )
    found = {p.line: p.reason for p in refusal(data).problems}
    assert sorted(found) == [1, 2, 3, 5, 6]
    assert "no public identity" in found[1] and "Yubico format" in found[1]
    assert "not hex" in found[2]
    assert "6 or 8" in found[3]
    assert "already on line 4" in found[5] and "same slot written twice" in found[5]
    assert "unknown event type" in found[6]


def test_yubico_format_repeated_serial_cannot_be_told_apart() -> None:
    data = "\n".join(
        [yubico("5551234", "", "0", SLOT1.hex()), yubico("5551234", "", "0", SLOT2.hex())]
    )
    (problem,) = refusal(data).problems
    assert problem.line == 2 and "records no slot" in problem.reason


def test_a_log_of_no_oath_slot_is_refused() -> None:
    data = yubico("5551236", "vvccccccccdd", "0a1b2c3d4e5f", AES)
    assert "no OATH-HOTP key" in refusal(data).message
