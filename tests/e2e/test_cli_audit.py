"""`twostep audit` shows each event's request id and finds one request's events, on both
databases."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest

from tests.support import builders
from twostep.adapters.logs import reset_request_id, set_request_id
from twostep.bootstrap import App
from twostep.config import Config
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")


def _run(config: Config, *args: str) -> str:
    key = config.storage.secret_key
    assert key is not None
    env = {
        "TWOSTEP_HOME": str(config.storage.home),
        "TWOSTEP_DATABASE_URL": config.storage.database_url,
        "TWOSTEP_SECRET_KEY": key.get_secret_value(),
    }
    result = subprocess.run(
        [sys.executable, "-m", "twostep.interfaces.cli.main", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_audit_command_shows_and_filters_by_request_id(app: App, config: Config) -> None:
    alice = builders.enrolled_user(app)
    vpn, _key = builders.integration(app)
    code = alice.totp(app.deps.clock.now())
    token = set_request_id("nas-7-req")  # as the HTTP or RADIUS interface does
    try:
        assert app.signin.sign_in(SignInRequest("alice", vpn, code=code)).result.value == "accept"
    finally:
        reset_request_id(token)
    assert app.signin.sign_in(SignInRequest("alice", vpn, code=code)).result.value == "reject"

    table = _run(config, "audit").splitlines()
    assert table[0].split()[-1] == "REQUEST_ID"
    assert "nas-7-req" in table[1] and "accept" in table[1]
    assert "reject" in table[2] and "nas-7-req" not in table[2]

    only = _run(config, "audit", "--request-id", "nas-7-req").splitlines()
    assert len(only) == 2 and "accept" in only[1]

    rows = list(csv.DictReader(io.StringIO(_run(config, "audit", "--csv"))))
    assert [r["request_id"] for r in rows] == ["nas-7-req", ""]
