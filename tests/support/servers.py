"""Real ``twostep serve`` processes on loopback, for multi-process tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.postgres import free_port


@contextmanager
def serving(env: dict[str, str], count: int = 1, workers: int = 1) -> Iterator[list[str]]:
    """Start ``count`` server processes on one database; yield their base URLs."""
    procs: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for i in range(count):
            port = free_port()
            procs.append(start(env, port, f"node-{i}", workers, log_name=f"server-{i}.log"))
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            wait_healthy(url, proc)
        yield urls
    finally:
        stop(procs)


def start(
    env: dict[str, str], port: int, node: str, workers: int = 1, log_name: str | None = None
) -> subprocess.Popen[bytes]:
    """One ``twostep serve`` on ``port`` (its own process group), logging to
    ``$TWOSTEP_HOME/<log_name or node.log>`` (appended: a restarted node keeps its lines)."""
    log = Path(env["TWOSTEP_HOME"]) / (log_name or f"{node}.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "twostep.interfaces.cli.main",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env={**os.environ, **env, "TWOSTEP_NODE_NAME": node},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy")


_wait_healthy = wait_healthy  # its former name
