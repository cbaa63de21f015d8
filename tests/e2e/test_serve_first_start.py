"""`twostep serve`'s first start, done in a child process (prefork.apart): the admin key
it creates is shown once and works; a start that fails reports its error once, as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import free_port
from tests.support.servers import start, stop, wait_healthy

pytestmark = pytest.mark.slow


def _key(log: str) -> str | None:
    keys = [line.strip() for line in log.splitlines() if line.strip().startswith("tsa_")]
    assert len(keys) <= 1, log
    return keys[0] if keys else None


def test_the_first_start_shows_a_working_admin_key_and_the_next_start_none(
    tmp_path: Path,
) -> None:
    home = tmp_path / "data"
    env = {"TWOSTEP_HOME": str(home)}
    log = home / "node-0.log"
    for start_number in (1, 2):
        port = free_port()
        proc = start(env, port, "node-0", workers=2)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc)
            text = log.read_text()
            if start_number == 1:
                key = _key(text)
                assert key is not None, text
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/v1/tenants",
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=30,
                )
                assert answer.status_code == 200, answer.text
                assert [t["name"] for t in answer.json()] == ["default"]
        finally:
            stop([proc])
    assert _key(log.read_text()) == key  # the second start showed none
    assert "Traceback" not in log.read_text()


def test_a_first_start_that_fails_reports_its_error_once(tmp_path: Path) -> None:
    # The child fails, says nothing, and serve does the work again itself: the error once.
    env = {
        **os.environ,
        "TWOSTEP_HOME": str(tmp_path / "data"),
        # A driver SQLAlchemy knows that is not installed here: invalid_setting.
        "TWOSTEP_DATABASE_URL": "postgresql+pg8000://twostep@127.0.0.1/twostep",
    }
    done = subprocess.run(
        [sys.executable, "-m", "twostep.interfaces.cli.main", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("needs the Python module 'pg8000'") == 1, done.stderr
    assert "Traceback" not in done.stderr
