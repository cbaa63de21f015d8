"""`twostep serve`: pre-forked workers, and a port that is taken is an error, not a share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.phones import MOBILE
from tests.support.postgres import free_port
from tests.support.servers import serving, start, stop, wait_healthy
from twostep.bootstrap import build
from twostep.config import Config
from twostep.services.admin import OPERATOR

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


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_answers_the_long_poll_and_exits_0(tmp_path: Path, workers: int) -> None:
    home = tmp_path / "data"
    config = Config.from_env({"TWOSTEP_HOME": str(home)})
    app = build(config, upgrade=True)
    app.admin.ensure_default_tenant()
    _integration, key = app.admin.create_integration(OPERATOR, "default", "web")
    admin = {"Authorization": f"Bearer {app.admin.bootstrap_admin_key()}"}
    app.close()
    env = {"TWOSTEP_HOME": str(home), "TWOSTEP_SHUTDOWN_TIMEOUT": "5"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start(env, port, "node-0", workers=workers)
    try:
        wait_healthy(url, proc)
        with httpx.Client(base_url=url, timeout=30) as client:
            client.post("/v1/tenants/default/users", json={"user": "alice"}, headers=admin)
            r = client.post(
                "/v1/tenants/default/users/alice/methods",
                json={"kind": "sms", "phone": MOBILE},
                headers=admin,
            )
            assert r.status_code == 201, r.text
            auth = {"Authorization": f"Bearer {key}"}
            tx = client.post("/v1/validate", json={"user": "alice"}, headers=auth).json()
            polled: list[httpx.Response] = []
            poll = threading.Thread(
                target=lambda: polled.append(
                    client.get(f"/v1/validate/{tx['transaction_id']}?wait=30", headers=auth)
                )
            )
            poll.start()
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            poll.join(timeout=30)
            assert polled[0].status_code == 200 and polled[0].json()["result"] == "challenge"
            assert proc.wait(timeout=15) == 0
            assert time.monotonic() - asked < 5
    finally:
        stop([proc])
    assert "Traceback" not in (home / "node-0.log").read_text()
