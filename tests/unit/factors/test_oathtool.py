"""Codes from an independent generator, the ``oathtool`` program (OATH Toolkit), match."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import missing
from twostep.domain.entities import OtpAlgorithm, OtpParams, OtpType
from twostep.factors import otp

# Seeds of the length each hash wants, plus an 80-bit seed as some hardware tokens ship.
SEEDS = {
    OtpAlgorithm.SHA1: bytes.fromhex("3a1f9c0b7e52d46881af03c5e9b2d7740c6e1f58"),
    OtpAlgorithm.SHA256: bytes(range(7, 7 + 32)),
    OtpAlgorithm.SHA512: bytes(range(200, 200 - 64, -1)),
}
SHORT_SEED = bytes.fromhex("00112233445566778899")

# Step boundaries, a mid-step moment, far past 2038, and the epoch's first step.
MOMENTS = [1_800_000_000, 1_800_000_047, 4_102_444_800, 59]


@pytest.fixture(scope="module")
def oathtool() -> str:
    path = shutil.which("oathtool")
    if path is None:
        missing("oathtool")
    assert path is not None
    return path


def run(oathtool: str, *args: str) -> list[str]:
    done = subprocess.run([oathtool, *args], check=True, capture_output=True, text=True)
    return done.stdout.split()


@pytest.mark.parametrize("period", [30, 60])
@pytest.mark.parametrize("digits", [6, 8])
@pytest.mark.parametrize("algorithm", list(OtpAlgorithm))
def test_oathtool_totp_codes_match_their_time_step(
    oathtool: str, algorithm: OtpAlgorithm, digits: int, period: int
) -> None:
    seed = SEEDS[algorithm]
    params = OtpParams(type=OtpType.TOTP, algorithm=algorithm, digits=digits, period=period)
    for now in MOMENTS:
        (code,) = run(
            oathtool,
            f"--totp={algorithm.value.lower()}",
            f"--digits={digits}",
            f"--time-step-size={period}s",
            f"--now=@{now}",
            seed.hex(),
        )
        assert len(code) == digits
        assert otp.match_totp(seed, params, code, now, window=0) == now // period
        assert otp.hotp(seed, params, now // period) == code


@pytest.mark.parametrize("algorithm", list(OtpAlgorithm))
def test_an_oathtool_code_from_the_previous_step_matches_within_the_window(
    oathtool: str, algorithm: OtpAlgorithm
) -> None:
    seed = SEEDS[algorithm]
    params = OtpParams(algorithm=algorithm)
    now = 1_800_000_000
    (late,) = run(oathtool, f"--totp={algorithm.value.lower()}", f"--now=@{now - 30}", seed.hex())
    assert otp.match_totp(seed, params, late, now, window=1) == now // 30 - 1
    assert otp.match_totp(seed, params, late, now, window=0) is None


@pytest.mark.parametrize("digits", [6, 8])
def test_oathtool_hotp_codes_match_their_counters(oathtool: str, digits: int) -> None:
    seed = SEEDS[OtpAlgorithm.SHA1]
    params = OtpParams(type=OtpType.HOTP, digits=digits)
    # --window=19 prints the codes for counters 1000..1019, one a line.
    codes = run(
        oathtool, "--hotp", f"--digits={digits}", "--counter=1000", "--window=19", seed.hex()
    )
    assert len(codes) == 20
    for counter, code in enumerate(codes, start=1000):
        assert otp.match_hotp(seed, params, code, counter=counter, lookahead=0) == counter
    # From an expected counter of 1000 a look-ahead of 10 reaches 1010 and no further.
    assert otp.match_hotp(seed, params, codes[10], counter=1000, lookahead=10) == 1010
    assert otp.match_hotp(seed, params, codes[11], counter=1000, lookahead=10) is None


@pytest.mark.parametrize("counter", [0, 1, 9, 2**32 + 5])
def test_oathtool_hotp_with_an_80_bit_seed(oathtool: str, counter: int) -> None:
    params = OtpParams(type=OtpType.HOTP)
    (code,) = run(oathtool, "--hotp", f"--counter={counter}", SHORT_SEED.hex())
    assert otp.hotp(SHORT_SEED, params, counter) == code


def test_oathtool_reads_the_same_base32_secret_that_parse_seed_reads(oathtool: str) -> None:
    seed = SEEDS[OtpAlgorithm.SHA1]
    written = otp.b32encode(seed)
    (code,) = run(oathtool, "--totp", "--base32", "--now=@1800000000", written)
    assert otp.parse_seed(written) == seed
    assert otp.match_totp(seed, OtpParams(), code, 1_800_000_000, window=0) == 60_000_000
