"""Processes as the kernel reports them (/proc): their state, their children."""

from __future__ import annotations

import time
from pathlib import Path


def state(pid: int) -> str | None:
    """The one-letter state (``R``, ``S``, ``T``, ``Z``...), or None: no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]  # after the command name, which may hold ")"


def alive(pid: int) -> bool:
    """Running, sleeping or stopped: not gone and not a zombie waiting to be reaped."""
    return state(pid) not in (None, "Z")


def gone(pids: list[int], timeout: float = 30) -> bool:
    """Whether every one of ``pids`` has ended within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def children(pid: int) -> dict[int, str]:
    """``pid``'s live child processes and their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        process_state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and process_state != "Z":
            found[int(entry.name)] = cmdline
    return found
