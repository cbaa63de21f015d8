"""An import killed in the middle leaves nothing behind: it is one transaction."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twostep.bootstrap import build
from twostep.config import Config
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.slow


def test_a_killed_import_stores_no_token(tmp_path: Path) -> None:
    home = tmp_path / "data"
    env = {**os.environ, "TWOSTEP_HOME": str(home)}
    csv = tmp_path / "tokens.csv"
    seed = base64.b32encode(bytes(range(20))).decode()
    csv.write_text("".join(f"S{i:06d},{seed},30\n" for i in range(100_000)))
    cli = [sys.executable, "-m", "twostep.interfaces.cli.main"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)

    importing = subprocess.Popen(
        [*cli, "tokens", "import", str(csv)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(2.0)  # parsing done, rows being written (the whole import takes ~5 s)
    still_running = importing.poll() is None
    importing.send_signal(signal.SIGKILL)
    importing.wait(timeout=30)
    assert still_running, "the import finished before it could be killed"

    app = build(Config.from_env({"TWOSTEP_HOME": str(home)}))
    try:
        assert app.tokens.list(OPERATOR, "default") == []
    finally:
        app.close()
    done = subprocess.run(
        [*cli, "tokens", "import", str(csv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "imported 100000" in done.stdout, done.stderr
