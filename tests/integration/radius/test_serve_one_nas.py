"""`twostep serve --workers 2` with RADIUS on: one NAS, sending every request from one
UDP source port, is answered by both workers, and a retransmission still reaches the
worker that holds its first copy.

Which worker answers is made observable by stopping one (SIGSTOP): while it is stopped
only the other answers, and whatever was sent to the stopped one is answered when it
resumes.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.support import builders
from tests.support.postgres import free_port
from tests.support.radius import SECRET, access_request
from twostep.bootstrap import build
from twostep.config import Config
from twostep.interfaces.radius import packet
from twostep.services.admin import OPERATOR
from twostep.services.radius_clients import NewRadiusClient

pytestmark = pytest.mark.slow

SERVE = [sys.executable, "-m", "twostep.interfaces.cli.main", "serve"]
START_SECONDS = 20.0
SILENCE = 0.5  # seconds without a reply that count as "not answered"


def _prepare(home: Path) -> builders.Enrolled:
    """A RADIUS client for 127.0.0.1 and alice with a confirmed authenticator app."""
    app = build(Config.from_env({"TWOSTEP_HOME": str(home)}), upgrade=True)
    try:
        app.admin.ensure_default_tenant()
        app.radius_clients.create(
            OPERATOR, "default", NewRadiusClient("vpn", "127.0.0.1", secret=SECRET)
        )
        return builders.enrolled_user(app, "alice")
    finally:
        app.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def serve(home: Path, radius_port: int) -> Iterator[list[int]]:
    """The server with two workers, both listening for RADIUS; yields the workers' pids."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOSTEP_")}
    env.update(TWOSTEP_HOME=str(home), TWOSTEP_RADIUS="on", TWOSTEP_RADIUS_PORT=str(radius_port))
    log = home / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*SERVE, "--port", str(free_port()), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + START_SECONDS
        while log.read_text().count("client(s)") < 2:  # each worker's "RADIUS listening"
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        workers = _children(proc.pid)
        assert len(workers) == 2
        yield workers
    finally:
        for pid in workers:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert "Traceback" not in log.read_text()


def _replies(nas: socket.socket, want: int = 0, within: float = 5.0) -> list[bytes]:
    """The datagrams that reach ``nas``: at least ``want`` (or all that come ``within``
    seconds), then any more that follow with no gap longer than SILENCE."""
    got: list[bytes] = []
    deadline = time.monotonic() + within
    while True:
        wait = SILENCE if len(got) >= want else deadline - time.monotonic()
        if wait <= 0:
            return got
        nas.settimeout(wait)
        try:
            got.append(nas.recv(4096))
        except TimeoutError:
            return got


def test_one_nas_source_port_is_answered_by_both_workers(tmp_path: Path) -> None:
    home = tmp_path / "data"
    alice = _prepare(home)
    port = free_port()
    with (
        serve(home, port) as (stopped, _running),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as nas,
    ):
        nas.connect(("127.0.0.1", port))  # one source port for everything below
        os.kill(stopped, signal.SIGSTOP)
        for ident in range(16):
            status = packet.sign_request(
                ident, secrets.token_bytes(16), [], SECRET.encode(), packet.STATUS_SERVER
            )
            nas.send(status)
        early = {reply[1] for reply in _replies(nas, want=8)}
        # Half the Identifiers, one parity: the running worker took its share and no more.
        assert len(early) == 8 and len({ident % 2 for ident in early}) == 1, sorted(early)

        # alice's request, sent (and retransmitted) to the stopped worker: no answer yet.
        ident = 16 + (1 - min(early) % 2)  # the stopped worker's parity, not yet used
        request = access_request("alice", alice.totp(time.time()), ident=ident)
        for _ in range(3):
            nas.send(request)
        assert _replies(nas) == []

        os.kill(stopped, signal.SIGCONT)
        late = _replies(nas, want=9)  # the other 8 Status-Servers and alice's answer
    status_late = {r[1] for r in late if r[1] != ident}
    assert status_late == set(range(16)) - early  # the other worker answered the rest
    answers = [r for r in late if r[1] == ident]
    # Every copy reached the one worker that decided the first: one decision, its reply
    # resent byte for byte (a copy on the other worker would be a replayed code: reject).
    assert answers and all(a == answers[0] for a in answers)
    assert answers[0][0] == packet.ACCESS_ACCEPT
    app = build(Config.from_env({"TWOSTEP_HOME": str(home)}))
    try:
        assert len(app.audit.query(OPERATOR, "default", user="alice")) == 1
    finally:
        app.close()
