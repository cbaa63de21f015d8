"""The README's tour, from the shell: a person can do all of it with `twostep`."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.support.cli import twostep, twostep_process
from tests.support.servers import serving
from twostep.domain.entities import OtpParams, OtpType
from twostep.factors import otp

pytestmark = pytest.mark.slow


def test_the_tour(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep_process(home, "db", "upgrade")
    assert (home / "secret.key").stat().st_mode & 0o777 == 0o600
    twostep_process(
        home,
        "users",
        "add",
        "alice",
        "--first-name",
        "Alice",
        "--email",
        "alice@example.com",
        "--mfa",
        "enforced",
    )

    out = twostep_process(home, "methods", "add", "alice", "app_code")
    uri = re.search(r"otpauth://totp/\S+", out)
    method_id = re.search(r"method (\w+) is pending", out)
    assert uri and method_id and "\u2588" in out  # the QR code, drawn in the terminal
    seed = otp.parse_seed(uri.group(0).split("secret=")[1].split("&")[0])
    # The current code, as the app shows it; the sign-in below uses the next one, which
    # the server still accepts (one step either side) however the seconds fall.
    step = otp.time_step(time.time(), 30)
    code = otp.hotp(seed, OtpParams(), step)
    assert "is active" in twostep_process(
        home, "methods", "confirm", "alice", method_id.group(1), code
    )

    key = twostep_process(home, "integrations", "add", "intranet").strip().splitlines()[-1]
    assert key.startswith("tsi_")

    with serving({"TWOSTEP_HOME": str(home)}) as (url,):
        headers = {"Authorization": f"Bearer {key}"}
        body = {
            "user": "alice",
            "code": otp.hotp(seed, OtpParams(), step + 1),
            "client_ip": "203.0.113.7",
        }
        first = httpx.post(f"{url}/v1/validate", json=body, headers=headers).json()
        again = httpx.post(f"{url}/v1/validate", json=body, headers=headers).json()
    assert first["result"] == "accept"
    assert (again["result"], again["reason"]) == ("reject", "code_replayed")

    table = twostep_process(home, "audit")
    assert "accept" in table and "code_replayed" in table and "203.0.113.7" in table
    csv = twostep_process(home, "audit", "--csv")
    assert csv.splitlines()[0].startswith("event_id,time,tenant,user")
    assert body["code"] not in table + csv

    shown = twostep_process(home, "users", "show", "alice")
    assert "app_code" in shown and seed.hex() not in shown


def test_errors_are_one_line_with_a_code(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep_process(home, "db", "upgrade")
    out = twostep_process(home, "users", "show", "nobody", ok=False)
    assert "[user_not_found]" in out and "Traceback" not in out
    out = twostep_process(home, "users", "add", "bob", "--phone", "12345", ok=False)
    assert "[invalid_phone_number]" in out


def test_rotating_the_secret_key_keeps_codes_working(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "carol")
    seed = bytes(range(20))
    twostep(
        home,
        "methods",
        "add",
        "carol",
        "oath_token",
        "--serial",
        "T1",
        "--secret",
        otp.b32encode(seed),
        "--otp-type",
        "hotp",
    )
    before = (home / "secret.key").read_text()
    assert "re-encrypted 1 secret" in twostep(home, "keys", "rotate-secrets")
    after = (home / "secret.key").read_text()
    assert before != after and len(after.splitlines()) == 2  # comment line + one key
    key = twostep(home, "integrations", "add", "vpn").strip().splitlines()[-1]
    with serving({"TWOSTEP_HOME": str(home)}) as (url,):
        r = httpx.post(
            f"{url}/v1/validate",
            headers={"Authorization": f"Bearer {key}"},
            json={"user": "carol", "code": otp.hotp(seed, OtpParams(type=OtpType.HOTP), 0)},
        )
    assert r.json()["result"] == "accept"
