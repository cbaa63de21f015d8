"""`twostep serve` logs JSON lines from the supervisor and every pre-forked worker, uvicorn's
own lines and the access log included, each request's lines with its X-Request-ID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import free_port

pytestmark = pytest.mark.slow


def _wait_listening(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            httpx.get(f"{url}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not answer")


def test_every_process_logs_json_lines_with_the_request_id(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TWOSTEP_HOME": str(tmp_path / "data"),
        "TWOSTEP_LOG_LEVEL": "debug",
        "TWOSTEP_NODE_NAME": "node-logs",
    }
    env.pop("TWOSTEP_LOG_FORMAT", None)  # auto: stderr is a file here, so JSON
    (tmp_path / "data").mkdir()
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "twostep.interfaces.cli.main",
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
                "--access-log",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    try:
        _wait_listening(url, proc)
        for i in range(20):  # a new connection each: the kernel spreads them over the workers
            r = httpx.post(f"{url}/v1/validate", json={}, headers={"X-Request-ID": f"e2e-{i}"})
            assert r.status_code == 401 and r.headers["x-request-id"] == f"e2e-{i}"
        r = httpx.post(f"{url}/v1/validate", json={}, headers={"X-Request-ID": "x" * 200})
        made = r.headers["x-request-id"]
        assert len(made) == 32
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    lines = [json.loads(line) for line in stderr.read_text().splitlines()]  # all JSON
    assert lines
    for line in lines:
        assert {"time", "level", "logger", "node", "message"} <= line.keys()
        assert line["node"] == "node-logs"
    access = [
        x for x in lines if x["logger"] == "uvicorn.access" and "/v1/validate" in x["message"]
    ]
    assert sorted(x["request_id"] for x in access) == sorted(
        [f"e2e-{i}" for i in range(20)] + [made]
    )
    assert all("POST /v1/validate" in x["message"] and "401" in x["message"] for x in access)
    started = [x for x in lines if x["message"].startswith("Started server process")]
    assert len(started) == 2  # each worker's uvicorn, through the same handler
    # No request leaks its id into lines made outside it.
    outside = [x for x in lines if x["logger"] != "uvicorn.access" and "request_id" in x]
    assert all(x["request_id"].startswith("e2e-") or x["request_id"] == made for x in outside)
