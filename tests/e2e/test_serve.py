"""`twostep serve`: pre-forked workers, and a port that is taken is an error, not a share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.servers import serving

pytestmark = pytest.mark.slow


def test_two_workers_serve_and_a_second_server_cannot_take_the_port(tmp_path: Path) -> None:
    env = {"TWOSTEP_HOME": str(tmp_path / "data")}
    with serving(env, workers=2) as (url,):
        assert all(httpx.get(f"{url}/health").json() == {"status": "ok"} for _ in range(20))
        port = url.rsplit(":", 1)[1]
        second = subprocess.run(
            [sys.executable, "-m", "twostep.interfaces.cli.main", "serve", "--port", port],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert second.returncode == 1
    assert "Address already in use" in second.stderr and "Traceback" not in second.stderr
