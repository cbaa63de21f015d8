"""Codes a real token would show, from the oathtool program (an independent generator)."""

from __future__ import annotations

import datetime
import shutil
import subprocess

from tests.conftest import missing


def oathtool(*args: str) -> str:
    if shutil.which("oathtool") is None:
        missing("oathtool")
    done = subprocess.run(["oathtool", *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def hotp_code(seed: bytes, counter: int, digits: int = 6) -> str:
    return oathtool("--hotp", f"--digits={digits}", f"--counter={counter}", seed.hex())


def totp_code(seed: bytes, at: float, digits: int = 6, period: int = 30) -> str:
    when = datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return oathtool(
        "--totp", f"--digits={digits}", f"--time-step-size={period}s", f"--now={when}", seed.hex()
    )
