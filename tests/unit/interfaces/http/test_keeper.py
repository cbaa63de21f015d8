"""The supervisor's loop (keeper.py): replaces dead workers, keeps one scheduler, gives up on
workers that keep dying, and stops them all on SIGTERM, killing the ones that linger.

Each case runs the loop in a child interpreter whose "workers" are small processes it
starts (a real ``os.wait`` there reaps only its own children, never the test run's)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.processes import alive

# The child: a Keeper whose spawn starts `python -c <worker>`, recording every start
# (pid, scheduler flag) and death in a JSON file; the keeper's exit status is the child's.
_HARNESS = """
import json, os, sys, signal
from twostep.interfaces.http import keeper

events_path, worker, first, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
keeper.KILL_AFTER = 0.0
events = []

def record(event):
    events.append(event)
    with open(events_path, "w") as f:
        json.dump(events, f)

# A worker starts by unblocking what serve blocked for the hand-over (as prefork's do).
unblock = "import signal; signal.pthread_sigmask(signal.SIG_UNBLOCK, [15, 2, 17]); "

def spawn(scheduler):
    pid = os.posix_spawn(sys.executable, [sys.executable, "-c", unblock + worker], os.environ)
    record(["start", pid, scheduler])
    return pid

signal.pthread_sigmask(signal.SIG_BLOCK, keeper.HANDED_OVER)  # as serve hands over
workers = [spawn(i == 0) for i in range(first)]
code = keeper.Keeper(workers, workers[0], spawn, timeout, lambda pid: record(["dead", pid])).run()
record(["exit", code])
sys.exit(code)
"""

SLEEPER = "import time; time.sleep(60)"
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def _start(
    tmp_path: Path, worker: str, first: int = 2, timeout: float = 5.0, script: str = _HARNESS
) -> subprocess.Popen[bytes]:
    events = str(tmp_path / "events.json")
    with (tmp_path / "stderr.log").open("wb") as err:  # the keeper's log lines
        return subprocess.Popen(
            [sys.executable, "-c", script, events, worker, str(first), str(timeout)], stderr=err
        )


def _events(tmp_path: Path, until: int, proc: subprocess.Popen[bytes]) -> list[list[object]]:
    """The recorded events once there are ``until`` of them (at most 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            events: list[list[object]] = json.loads((tmp_path / "events.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            events = []
        if len(events) >= until:
            return events
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"only {events} after 30 s")


def test_a_dead_worker_is_replaced_and_the_scheduler_role_follows_it(tmp_path: Path) -> None:
    proc = _start(tmp_path, SLEEPER)
    try:
        (_, first, _), (_, second, _) = _events(tmp_path, 2, proc)
        os.kill(int(second), signal.SIGKILL)  # not the scheduler: its replacement is not either
        events = _events(tmp_path, 4, proc)
        assert events[2] == ["dead", second] and events[3][0] == "start"
        assert events[3][2] is False
        os.kill(int(first), signal.SIGKILL)  # the scheduler: its replacement takes the role
        events = _events(tmp_path, 6, proc)
        assert events[4] == ["dead", first] and events[5][0] == "start"
        assert events[5][2] is True
        replacements = [int(events[3][1]), int(events[5][1])]  # type: ignore[call-overload]
        assert all(alive(pid) for pid in replacements)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not any(alive(pid) for pid in replacements)
        assert _events(tmp_path, 9, proc)[-1] == ["exit", 0]
    finally:
        proc.kill()
        proc.wait()


def test_workers_that_keep_dying_stop_the_server_with_status_1(tmp_path: Path) -> None:
    proc = _start(tmp_path, "raise SystemExit(3)")
    try:
        assert proc.wait(timeout=60) == 1
    finally:
        proc.kill()
    events = _events(tmp_path, 1, proc)
    starts = [e for e in events if e[0] == "start"]
    assert len(starts) == 2 + 5  # the first two, then RESPAWN_LIMIT replacements
    assert events[-1] == ["exit", 1]
    assert "workers keep dying: stopping" in (tmp_path / "stderr.log").read_text()


def test_sigterm_stops_every_worker_and_kills_one_that_ignores_it(tmp_path: Path) -> None:
    proc = _start(tmp_path, STUBBORN, timeout=0.5)
    try:
        (_, first, _), (_, second, _) = _events(tmp_path, 2, proc)
        time.sleep(0.5)  # the stubborn workers have installed their SIG_IGN
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    events = _events(tmp_path, 5, proc)
    assert sorted(e[1] for e in events if e[0] == "dead") == sorted([first, second])
    assert events[-1] == ["exit", 0]
    stderr = (tmp_path / "stderr.log").read_text()
    assert f"worker {first} did not stop within the shutdown timeout: killed" in stderr
    assert not alive(int(first)) and not alive(int(second))  # type: ignore[call-overload]


def test_a_signal_sent_during_the_hand_over_is_handled_once_the_loop_runs(tmp_path: Path) -> None:
    """serve blocks SIGTERM from before the fork until the keeper handles it: one sent in
    between waits instead of killing the supervisor and orphaning the workers."""
    script = _HARNESS.replace(
        "workers = [spawn", "os.kill(os.getpid(), signal.SIGTERM)\nworkers = [spawn"
    )
    proc = _start(tmp_path, SLEEPER, script=script)
    try:
        assert proc.wait(timeout=30) == 0  # stopped by the loop (a raw SIGTERM: status -15)
    finally:
        proc.kill()
    events = _events(tmp_path, 5, proc)
    assert [e[0] for e in events] == ["start", "start", "dead", "dead", "exit"]


def test_a_worker_started_while_sigterm_arrives_is_stopped_too(tmp_path: Path) -> None:
    """SIGTERM handled while a replacement is being started (between its start and its
    pid being known): the replacement is told to stop as well, not left for the kill."""
    script = _HARNESS.replace(
        '    record(["start", pid, scheduler])\n',
        '    record(["start", pid, scheduler])\n'
        "    if len(events) == 4:  # the replacement: start, start, dead, start\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n",
    )
    proc = _start(tmp_path, SLEEPER, script=script)
    try:
        (_, first, _), _ = _events(tmp_path, 2, proc)
        os.kill(int(first), signal.SIGKILL)  # type: ignore[call-overload]
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    events = _events(tmp_path, 7, proc)
    assert [e[0] for e in events] == ["start", "start", "dead", "start", "dead", "dead", "exit"]
    assert "did not stop within the shutdown timeout" not in (tmp_path / "stderr.log").read_text()
