"""The Twostep server under test (``twostep serve`` in its own process group) and the
resident memory of its process tree, read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0


def twostep_executable() -> str:
    """The ``twostep`` script next to the running interpreter (the project's venv)."""
    candidate = Path(sys.executable).parent / "twostep"
    if not candidate.exists():
        raise FileNotFoundError(f"{candidate} not found: run with the project's venv python")
    return str(candidate)


class Server:
    def __init__(
        self,
        home: Path,
        port: int,
        workers: int | None,
        database_url: str | None,
        db_pid: int | None = None,
    ) -> None:
        self.home = home
        self.db_pid = db_pid  # PostgreSQL's postmaster: its CPU is counted apart
        self.port = port
        self.workers = workers
        self.database_url = database_url
        self.log_path = home / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.profile: Path | None = None  # set before start(): run under cProfile, to here

    def environment(self) -> dict[str, str]:
        env = dict(os.environ, TWOSTEP_HOME=str(self.home))
        if self.profile is not None:
            env["PYTHONPATH"] = _with_root(env.get("PYTHONPATH", ""))  # ``-m bench.profiled``
        env.pop("TWOSTEP_SECRET_KEY", None)  # the key file under TWOSTEP_HOME, like setup
        if self.database_url:
            env["TWOSTEP_DATABASE_URL"] = self.database_url
        else:
            env.pop("TWOSTEP_DATABASE_URL", None)
        return env

    def command(self) -> list[str]:
        command = [
            twostep_executable(),
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
        ]
        if self.workers is not None:
            command += ["--workers", str(self.workers)]
        if self.profile is not None:
            # One process (``--workers 1`` serves in the supervisor itself), under cProfile
            # on a CPU clock (bench/profiled.py); the profile is written when it exits.
            command = [sys.executable, "-m", "bench.profiled", str(self.profile), *command]
        return command

    def start(self) -> None:
        env, command = self.environment(), self.command()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        url = f"http://{HOST}:{self.port}/health"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{self.output()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer /health in {START_TIMEOUT:.0f}s")

    def output(self) -> str:
        """What ``twostep serve`` printed, with the one-time admin key masked."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(
            "  tsa_<masked>" if line.strip().startswith("tsa_") else line
            for line in text.splitlines()
        )

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL if it lingers."""
        process = self.process
        if process is None:
            return
        self.process = None
        for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=wait)
                # Workers may outlive the supervisor for a moment: sweep the group too.
                os.killpg(process.pid, signal.SIGKILL)
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                pass
            break

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


def _with_root(path: str) -> str:
    """``path`` (a PYTHONPATH) with the project's root first, where ``bench`` is."""
    root = str(Path(__file__).resolve().parent.parent)
    return os.pathsep.join(p for p in (root, path) if p)


class ProbeServer(Server):
    """``bench/probe.py`` (the bare Starlette validation) on its own SQLite file, served
    like ``twostep serve``: same pre-fork, uvicorn settings and pragmas."""

    def __init__(self, home: Path, port: int, workers: int, database: Path, key: str) -> None:
        super().__init__(home, port, workers, None)
        self.log_path = home / "probe.log"
        self.database = database
        self.key = key

    def environment(self) -> dict[str, str]:
        path = _with_root(os.environ.get("PYTHONPATH", ""))  # so ``-m bench.probe`` imports
        return dict(os.environ, PROBE_KEY=self.key, PYTHONPATH=path)

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "bench.probe",
            "--database",
            str(self.database),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]


# -- memory --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProcMemory:
    pid: int
    role: str
    rss_kib: int
    hwm_kib: int  # peak RSS
    pss_kib: int | None  # proportional share: shared pages split between sharers

    def as_dict(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "role": self.role,
            "rss_mib": round(self.rss_kib / 1024, 1),
            "peak_rss_mib": round(self.hwm_kib / 1024, 1),
            "pss_mib": None if self.pss_kib is None else round(self.pss_kib / 1024, 1),
        }


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def process_tree(root: int) -> list[int]:
    tree: list[int] = []
    todo = [root]
    while todo and len(tree) < 256:
        pid = todo.pop(0)
        tree.append(pid)
        todo.extend(_children(pid))
    return tree


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _pss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


def _role(pid: int, root: int) -> str:
    cmdline = _cmdline(pid)
    if pid == root:
        return "supervisor (twostep serve)"
    # Spawned (multiprocessing), forked (serve's command line, before the supervisor's
    # exec into keeper.py) or replacement (respawn.py) workers.
    if "multiprocessing.spawn" in cmdline or " serve" in cmdline or "http.respawn" in cmdline:
        return "worker"
    if "resource_tracker" in cmdline:
        return "resource tracker"
    return cmdline[:60]


def tree_memory(root: int) -> list[ProcMemory]:
    result = []
    tree = process_tree(root)
    for pid in tree:
        try:
            result.append(
                ProcMemory(
                    pid=pid,
                    role=_role(pid, root) if len(tree) > 1 else "twostep serve (one process)",
                    rss_kib=_status_kib(pid, "VmRSS"),
                    hwm_kib=_status_kib(pid, "VmHWM"),
                    pss_kib=_pss_kib(pid),
                )
            )
        except OSError:
            continue  # the process left between listing and reading
    return result


# -- CPU accounting: who used the two cores during a run ---------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int | None) -> dict[int, float]:
    """CPU seconds used so far by each live process of ``root``'s tree, with what its
    exited children used (a PostgreSQL backend that closes is reaped by the postmaster)."""
    found: dict[int, float] = {}
    for pid in process_tree(root) if root else []:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # utime, stime, cutime, cstime
        found[pid] = sum(int(v) for v in fields[11:15]) / _TICK
    return found


def cpu_since(root: int | None, before: dict[int, float]) -> float:
    """CPU seconds ``root``'s tree used since ``before``: processes born since count whole,
    processes gone since are in their parent's children times (so nothing is lost)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in tree_cpu(root).items())


def system_busy_seconds() -> float:
    """CPU seconds all processors spent busy since boot (/proc/stat, not idle/iowait)."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICK
