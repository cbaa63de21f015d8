"""`twostep serve`: pre-forked workers, and a port that is taken is an error, not a share."""

from __future__ import annotations

import contextlib
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
from tests.support.processes import children, gone
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


def _replaced(pid: int, dead: int, url: str) -> int:
    """Wait (at most 30 s) until ``dead``'s replacement runs and the port answers: its pid."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = children(pid)
        new = [p for p, cmd in now.items() if "twostep.interfaces.http.respawn" in cmd]
        if dead not in now and len(now) == 2 and new:
            try:
                if all(httpx.get(f"{url}/readyz", timeout=5).status_code == 200 for _ in range(6)):
                    return max(new)
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"no replacement for worker {dead}: {children(pid)}")


def _launch(argv: list[str], home: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """``argv`` (a server) in its own process group, logging to ``home/node.log``."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / "node.log").open("wb") as log:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, "TWOSTEP_HOME": str(home)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _kill_one_worker(proc: subprocess.Popen[bytes], url: str) -> list[int]:
    """SIGKILL the first of the server's two workers and wait for its replacement: the
    workers then (the other one, the replacement)."""
    forked = sorted(children(proc.pid))
    assert len(forked) == 2, forked
    os.kill(forked[0], signal.SIGKILL)
    return [forked[1], _replaced(proc.pid, forked[0], url)]


def test_the_supervisor_keeps_no_preloaded_app_and_replaces_a_dead_worker(
    tmp_path: Path,
) -> None:
    """After forking, the supervisor is a small program of its own (keeper.py): none of
    the app's libraries is mapped in it. A worker that dies is replaced by a fresh one
    that serves on the port given by flag (the configuration handed over, not re-read)."""
    env = {"TWOSTEP_HOME": str(tmp_path / "data")}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start(env, port, "node-0", workers=2)
    try:
        wait_healthy(url, proc)
        supervisor = Path(f"/proc/{proc.pid}")
        assert b"twostep.interfaces.http.keeper" in (supervisor / "cmdline").read_bytes()
        maps = (supervisor / "maps").read_text()
        assert "pydantic_core" not in maps and "sqlalchemy" not in maps and "uvloop" not in maps
        forked = sorted(children(proc.pid))
        assert len(forked) == 2
        os.kill(forked[0], signal.SIGKILL)
        _replaced(proc.pid, forked[0], url)
        os.kill(forked[1], signal.SIGKILL)
        _replaced(proc.pid, forked[1], url)  # now only replacements serve the port
        assert all(httpx.get(f"{url}/health").json() == {"status": "ok"} for _ in range(10))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop([proc])
    log = (tmp_path / "data" / "node-0.log").read_text()
    assert f"worker {forked[0]} exited (status -9); starting another" in log
    assert "Traceback" not in log


_NO_EXEC = """
import os, sys
def refuse(*_args):
    raise PermissionError(1, "exec refused by the test")
os.execv = refuse
from twostep.interfaces.cli.main import main
sys.argv = ["twostep", "serve", "--port", sys.argv[1], "--workers", "2"]
main()
"""


def test_a_supervisor_that_cannot_exec_supervises_from_the_serving_process(
    tmp_path: Path,
) -> None:
    """Where the exec into keeper.py is refused, the same loop runs in the process that
    forked: it serves, replaces a dead worker and stops on SIGTERM with status 0."""
    home = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _launch([sys.executable, "-c", _NO_EXEC, str(port)], home)
    try:
        wait_healthy(url, proc)
        _kill_one_worker(proc, url)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop([proc])
    text = (home / "node.log").read_text()
    assert "supervising in the serving process" in text and "Traceback" not in text


def test_a_twostep_folder_in_the_working_directory_is_not_imported(tmp_path: Path) -> None:
    """The supervisor and the workers it starts run ``python -P -m``: the working
    directory is not put first on the module path, whatever it holds."""
    decoy = tmp_path / "cwd" / "twostep"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text('raise SystemExit("the working directory was imported")\n')
    home = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    script = Path(sys.executable).parent / "twostep"  # the installed command, as operators run it
    proc = _launch(
        [str(script), "serve", "--port", str(port), "--workers", "2"], home, decoy.parent
    )
    try:
        wait_healthy(url, proc)
        assert b"twostep.interfaces.http.keeper" in Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        _kill_one_worker(proc, url)  # its replacement is started the same way
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop([proc])
    assert "the working directory was imported" not in (home / "node.log").read_text()


def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    """A supervisor killed outright (SIGKILL, the OOM killer) takes its workers with it:
    the kernel sends each SIGTERM, they drain and exit, and the port is free for the next
    start, where they would otherwise serve on, unsupervised, holding it. The same for a
    worker started as a replacement."""
    home = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start({"TWOSTEP_HOME": str(home)}, port, "node-0", workers=2)
    workers: list[int] = []
    try:
        wait_healthy(url, proc)
        workers = _kill_one_worker(proc, url)
        proc.kill()
        proc.wait(timeout=10)
        assert gone(workers), "the workers outlived their supervisor"
        again = start({"TWOSTEP_HOME": str(home)}, port, "node-1", workers=2)
        try:
            wait_healthy(url, again)  # the port is free again
        finally:
            stop([again])
    finally:
        stop([proc])
        for pid in workers:  # a failed run leaves nothing behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    log = (home / "node-0.log").read_text()
    assert "Traceback" not in log
