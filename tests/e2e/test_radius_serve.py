"""`twostep serve` with RADIUS on: the CLI adds a client and a password, two pre-forked
workers answer radclient, and a taken RADIUS port stops a second server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import twostep
from tests.support.postgres import free_port
from tests.support.radius import Answer, radclient
from tests.support.servers import serving
from twostep.bootstrap import build
from twostep.config import Config
from twostep.factors import otp
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.slow

MA = "Message-Authenticator = 0x00"


def _code(home: Path, user: str) -> str:
    """The user's current TOTP code, from the seed as the server stores it."""
    app = build(Config.from_env({"TWOSTEP_HOME": str(home)}))
    try:
        with app.storage.transaction() as tx:
            found = tx.subjects.load(user, tenant_name="default")
        assert found is not None and found.user is not None
        [method] = found.methods
        assert method.otp is not None
        seed = app.deps.secrets.open(found.sealed[method.id], f"method:{method.id}")
        return otp.hotp(seed, method.otp, otp.time_step(time.time(), method.otp.period))
    finally:
        app.close()


def test_serve_radius_with_two_workers(tmp_path: Path) -> None:
    home = tmp_path / "data"
    secret_file = tmp_path / "secret"
    secret_file.write_text("cli-secret-" + "z" * 30 + "\n")
    twostep(home, "db", "upgrade")
    out = twostep(
        home,
        "radius-clients",
        "add",
        "vpn",
        "--network",
        "127.0.0.0/8",
        "--mode",
        "password_and_code",
        "--secret-file",
        str(secret_file),
    )
    assert "RADIUS client vpn (127.0.0.0/8, password_and_code) added" in out
    assert "127.0.0.0/8" in twostep(home, "radius-clients", "list")
    generated = twostep(home, "radius-clients", "add", "spare", "--network", "192.0.2.1")
    assert "shown only now" in generated
    twostep(home, "radius-clients", "delete", "spare")
    twostep(home, "users", "add", "carol")
    twostep(home, "methods", "add", "carol", "app_code")
    password_file = tmp_path / "password"
    password_file.write_text("carols password\n")
    twostep(home, "users", "set-password", "carol", "--password-file", str(password_file))
    _confirm(home, "carol")

    port = free_port()
    env = {"TWOSTEP_HOME": str(home), "TWOSTEP_RADIUS": "on", "TWOSTEP_RADIUS_PORT": str(port)}
    with serving(env, workers=2):
        secret = secret_file.read_text().strip()
        code = _code(home, "carol")
        answer = _until_answered(
            port, f'User-Name = "carol", User-Password = "carols password{code}", {MA}', secret
        )
        assert answer.code == "Access-Accept", answer.output
        wrong = radclient(
            port, f'User-Name = "carol", User-Password = "nope{code}", {MA}', secret=secret
        )
        assert wrong.code == "Access-Reject"
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "twostep.interfaces.cli.main",
                "serve",
                "--port",
                str(free_port()),
            ],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert second.returncode == 1
    assert f"cannot listen on udp 127.0.0.1:{port}" in second.stderr
    assert "Traceback" not in second.stderr
    audit = twostep(home, "audit", "--user", "carol")
    assert "invalid_password" in audit and "accept" in audit


def _confirm(home: Path, user: str) -> None:
    """Confirm the pending app_code enrollment with the current code, as the user would."""
    app = build(Config.from_env({"TWOSTEP_HOME": str(home)}))
    try:
        with app.storage.transaction() as tx:
            found = tx.subjects.load(user, tenant_name="default")
        assert found is not None
        [method] = found.methods
        assert method.otp is not None
        seed = app.deps.secrets.open(found.sealed[method.id], f"method:{method.id}")
        step = otp.time_step(time.time(), method.otp.period) - 1
        app.enroll.confirm(OPERATOR, "default", user, method.id, otp.hotp(seed, method.otp, step))
    finally:
        app.close()


def _until_answered(port: int, attributes: str, secret: str) -> Answer:
    """The workers load the clients as they start: retry briefly."""
    deadline = time.monotonic() + 20
    while True:
        answer = radclient(port, attributes, secret=secret, retries=2, timeout=1.0)
        if answer.code is not None or time.monotonic() > deadline:
            return answer
