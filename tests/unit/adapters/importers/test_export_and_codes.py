"""Export round trip, record privacy, and codes for imported seeds checked against oathtool."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest

from tests.conftest import missing
from tests.unit.adapters.importers import rfc6030_figures as rfc
from twostep.adapters.importers import (
    ImportProblem,
    ImportRefused,
    TokenRecord,
    read_csv,
    read_pskc,
    write_pskc,
)
from twostep.domain.entities import OtpAlgorithm, OtpParams, OtpType
from twostep.domain.errors import InvalidInput
from twostep.factors.otp import hotp, time_step

SEED = bytes(range(40, 72))


def test_write_pskc_round_trip() -> None:
    records = [
        TokenRecord(
            serial="T-1",
            seed=SEED,
            params=OtpParams(algorithm=OtpAlgorithm.SHA256, digits=8, period=60),
            manufacturer="Acme",
            model="T60",
            valid_from=1_700_000_000.0,
            valid_until=1_900_000_000.0,
            drift=-2,
        ),
        TokenRecord(
            serial="H-1",
            seed=SEED[:20],
            params=OtpParams(type=OtpType.HOTP, algorithm=OtpAlgorithm.SHA512),
            counter=99,
            key_id="legacy-7",
        ),
    ]
    data = write_pskc(records, "export password", iterations=1000)
    assert b"aes256-cbc" in data
    assert b"hmac-sha256" in data
    assert base64.b64encode(SEED) not in data
    back = read_pskc(data, password="export password")
    assert [(r.serial, r.seed, r.params, r.counter) for r in back] == [
        (r.serial, r.seed, r.params, r.counter) for r in records
    ]
    assert (back[0].manufacturer, back[0].model) == ("Acme", "T60")
    assert (back[0].valid_from, back[0].valid_until) == (1_700_000_000.0, 1_900_000_000.0)
    assert (back[0].drift, back[1].drift) == (-2, 0)  # a TOTP token's clock offset goes along
    assert back[1].key_id == "legacy-7"
    with pytest.raises(ImportRefused):
        read_pskc(data, password="export passworD")


def test_write_pskc_wants_a_real_password() -> None:
    with pytest.raises(InvalidInput):
        write_pskc([], "short")


def test_records_and_problems_hide_the_seed() -> None:
    record = TokenRecord(serial="S1", seed=SEED, params=OtpParams())
    assert SEED.hex() not in repr(record)
    assert repr(SEED) not in repr(record)
    assert "32 bytes hidden" in repr(record)
    assert str(ImportProblem("bad", key_id="k", serial="s")) == "key k (serial s): bad"
    refused = ImportRefused([ImportProblem(f"reason {n}", line=n) for n in range(1, 26)])
    assert refused.message.endswith("line 20: reason 20; and 5 more")
    assert len(refused.problems) == 25
    assert isinstance(refused, InvalidInput)


def oathtool(*args: str) -> str:
    if shutil.which("oathtool") is None:
        missing("oathtool")
    done = subprocess.run(["oathtool", *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_hotp_codes_of_an_imported_pskc_seed_match_oathtool() -> None:
    (record,) = read_pskc(rfc.FIGURE_7, password=rfc.FIGURE_7_PASSWORD)
    expected = oathtool("--hotp", "--digits=8", "--counter=0", "--window=4", record.seed.hex())
    ours = [hotp(record.seed, record.params, c) for c in range(5)]
    assert ours == expected.split()


@pytest.mark.parametrize(
    ("algorithm", "digits", "period"),
    [(OtpAlgorithm.SHA1, 6, 30), (OtpAlgorithm.SHA256, 8, 60), (OtpAlgorithm.SHA512, 8, 30)],
)
def test_totp_codes_of_an_imported_csv_seed_match_oathtool(
    algorithm: OtpAlgorithm, digits: int, period: int
) -> None:
    secret = base64.b32encode(SEED).decode().lower()
    (record,) = read_csv(
        f"serial,secret,interval,digits,algorithm\nS1,{secret},{period},{digits},{algorithm}\n"
    )
    now = 1_111_111_109
    expected = oathtool(
        f"--totp={algorithm.value}",
        f"--digits={digits}",
        f"--time-step-size={period}s",
        "--now=2005-03-18 01:58:29 UTC",
        record.seed.hex(),
    )
    assert hotp(record.seed, record.params, time_step(now, period)) == expected
