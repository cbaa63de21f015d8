"""The oathcsv layout: serial, hex seed, type, digits, time step."""

from __future__ import annotations

import pytest

from tests.unit.adapters.importers.oath_codes import hotp_code, totp_code
from twostep.adapters.importers import ImportRefused, read_oath_csv
from twostep.domain.entities import OtpType
from twostep.factors.otp import hotp, time_step

SEED = bytes(range(1, 21))


def problems(data: str) -> list[tuple[int | None, str]]:
    with pytest.raises(ImportRefused) as caught:
        read_oath_csv(data)
    assert SEED.hex() not in caught.value.message.lower()  # no seed is ever quoted
    return [(p.line, p.reason) for p in caught.value.problems]


def test_hotp_and_totp_rows_give_oathtool_s_codes() -> None:
    data = (
        f"H1,{SEED.hex()},hotp,8\nT1, {SEED.hex().upper()} ,TOTP,6,60\nT2,{SEED.hex()},totp\n"
        f"H2,{SEED.hex()},HOTP,6,1234\n"  # an HOTP token's fifth column is its counter
    )
    h1, t1, t2, h2 = read_oath_csv(data).records
    assert (h1.params.type, h1.params.digits, h1.counter) == (OtpType.HOTP, 8, 0)
    assert [hotp(h1.seed, h1.params, c) for c in range(3)] == [
        hotp_code(SEED, c, 8) for c in range(3)
    ]
    assert h2.counter == 1234
    assert hotp(h2.seed, h2.params, h2.counter) == hotp_code(SEED, 1234)
    now = 1_800_000_000
    assert (t1.params.period, t2.params.period, t2.params.digits) == (60, 30, 6)
    assert hotp(t1.seed, t1.params, time_step(now, 60)) == totp_code(SEED, now, 6, 60)


def test_rows_that_would_never_verify_are_refused_with_their_line() -> None:
    data = "\n".join(
        [
            f"OK,{SEED.hex()},hotp",  # 1
            f"TWO,{SEED.hex()}",  # 2: the type would be a guess
            f"OCRA,{SEED.hex()},ocra,6",  # 3
            f"D7,{SEED.hex()},hotp,7",  # 4
            "B32,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,totp",  # 5: base32, not hex
            f"P45,{SEED.hex()},totp,6,45",  # 6
            f"NOTYPE,{SEED.hex()},,6",  # 7
            f"OK,{SEED.hex()},totp",  # 8
        ]
    )
    found = dict(problems(data))
    assert sorted(found) == [2, 3, 4, 5, 6, 7, 8]
    assert "2 columns" in found[2]
    assert "OCRA" in found[3]
    assert "6 or 8" in found[4]
    assert "not hex" in found[5]
    assert "30 or 60" in found[6]
    assert "type (hotp or totp) is missing" in found[7]
    assert found[8] == "serial OK is already on line 1"
