"""The supervisor once the workers are forked: a small interpreter of its own.

``serve`` preloads the app, forks the workers from it and then replaces its own program
with this module (``exec``: the same process, so systemd, a terminal's ^C and ``kill``
see no change). A supervisor that kept the preloaded interpreter would keep the original
of every page its workers copy on write: each page both workers write to after the fork
(reference counts, the interpreter's specialised bytecode, the allocator's pools) ends in
three copies, the supervisor's used by nobody. After the exec the workers' shared pages
are shared by the two of them, and the supervisor holds only Python's core, the logging
set-up and this loop (docs/performance.md has the figures).

It forwards SIGTERM and SIGINT to the workers, kills what is left ``shutdown_timeout +
KILL_AFTER`` seconds later, and replaces a worker that died: with a fresh interpreter
(``respawn.py``) that builds its own app, since nothing preloaded is left here to fork
from; that one shares nothing with its siblings until the next restart. Workers that keep
dying (more than RESPAWN_LIMIT deaths within RESPAWN_WINDOW seconds) stop the server with
exit status 1. What ``serve`` hands over is in the command line (nothing secret) and, for
the workers it may have to start, a memory file holding the configuration.

Only the standard library and the log format are imported here: every module this process
loads is memory no request uses.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterable
from types import FrameType

from twostep.adapters import logs

log = logging.getLogger("twostep.serve")

RESPAWN_LIMIT = 5  # worker deaths within RESPAWN_WINDOW before the supervisor gives up
RESPAWN_WINDOW = 30.0
KILL_AFTER = 5.0  # seconds past shutdown_timeout a stopping worker gets before SIGKILL
# Blocked by ``serve`` from before the fork until this loop handles them: a signal sent
# meanwhile waits for it instead of killing a supervisor in the middle of its exec.
HANDED_OVER = (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD)

# ``-m`` would put the working directory first on the module path: a ``twostep`` folder
# there would be imported instead of the installed one (-P, Python 3.11+, does not).
SAFE_PATH = ("-P",)

Spawn = Callable[[bool], int]  # starts a worker (with the scheduled jobs or not): its pid


class Keeper:
    """Waits on the workers, replaces the ones that die, stops them all on SIGTERM."""

    def __init__(
        self,
        workers: Iterable[int],
        scheduler: int | None,
        spawn: Spawn,
        shutdown_timeout: float,
        on_death: Callable[[int], None] = lambda _pid: None,
    ) -> None:
        self.children = set(workers)
        self.scheduler = scheduler  # the worker that runs the scheduled syncs and rollups
        self.spawn = spawn
        self.shutdown_timeout = shutdown_timeout
        self.on_death = on_death
        self.stopping = False
        self.deaths: list[float] = []

    def _start(self) -> None:
        scheduler = self.scheduler is None
        pid = self.spawn(scheduler)
        self.children.add(pid)
        if scheduler:
            self.scheduler = pid
        if self.stopping:  # SIGTERM came while it was being started: it stops too
            os.kill(pid, signal.SIGTERM)

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        if not self.stopping:
            # Workers drain for up to shutdown_timeout; one still there after it is killed.
            signal.signal(signal.SIGALRM, self._kill)
            signal.setitimer(signal.ITIMER_REAL, self.shutdown_timeout + KILL_AFTER)
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.children.discard(pid)

    def _kill(self, _signum: int, _frame: FrameType | None) -> None:
        for pid in list(self.children):
            log.error("worker %d did not stop within the shutdown timeout: killed", pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                self.children.discard(pid)

    def run(self) -> int:
        """Until every worker has exited; the process's exit status."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDED_OVER)  # what came meanwhile, now
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if pid not in self.children:
                continue  # not a worker (none is started here otherwise)
            self.children.discard(pid)
            self.on_death(pid)
            if pid == self.scheduler:
                self.scheduler = None  # its replacement takes it over
            if self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            # The replacement is a fresh interpreter: it shares no page with the others
            # (70-85 MiB more for the node until the next restart, measured): say so.
            log.error(
                "worker %d exited (status %d); starting another, which shares no memory "
                "with the others until the server restarts",
                pid,
                code,
            )
            now = time.monotonic()
            self.deaths = [t for t in self.deaths if now - t < RESPAWN_WINDOW] + [now]
            if len(self.deaths) > RESPAWN_LIMIT:
                log.critical("workers keep dying: stopping")
                self._stop(signal.SIGTERM, None)
                return self._drain(1)
            try:
                self._start()
            except OSError as exc:
                log.critical("cannot start a worker (%s): stopping", exc)
                self._stop(signal.SIGTERM, None)
                return self._drain(1)
        return 0

    def _drain(self, code: int) -> int:
        while self.children:
            try:
                pid, _ = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            self.children.discard(pid)
            self.on_death(pid)
        return code


def respawner(config_fd: int, close: Iterable[int]) -> Spawn:
    """Starts a worker in a fresh interpreter (``respawn.py``), which reads the configuration
    from ``config_fd`` (inherited); the file descriptors in ``close`` (the port holder, the
    serving lock) stay here."""
    closing = [(os.POSIX_SPAWN_CLOSE, fd) for fd in close]

    def spawn(scheduler: bool) -> int:
        argv = [sys.executable, *SAFE_PATH, "-m", "twostep.interfaces.http.respawn", str(config_fd)]
        argv += ["scheduler" if scheduler else "worker", str(os.getpid())]
        return os.posix_spawn(sys.executable, argv, os.environ, file_actions=closing)

    return spawn


def metrics(directory: str | None) -> Callable[[int], None]:
    """A dead worker's live gauges (its pool) leave the sum; its counters stay counted."""
    if directory is None:
        return lambda _pid: None
    from prometheus_client import multiprocess

    def mark_dead(pid: int) -> None:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]

    return mark_dead


def command(plan: dict[str, object]) -> list[str]:
    """The command line ``serve`` execs into (``plan``: see ``main``)."""
    return [sys.executable, *SAFE_PATH, "-m", "twostep.interfaces.http.keeper", json.dumps(plan)]


def main(argv: list[str]) -> int:
    """``plan`` (JSON, made by prefork.hand_over): the workers' pids, which one runs the
    scheduled jobs, the shutdown timeout, the configuration's memory file, the descriptors
    to keep open for the server's life, the metrics directory (removed at exit) and how
    to log."""
    plan = json.loads(argv[1])
    logs.configure(plan["log_level"], plan["log_format"], plan["node"])
    keep = [int(fd) for fd in plan["keep_fds"]]  # held open until this process exits
    metrics_dir = plan["metrics_dir"]
    keeper = Keeper(
        plan["workers"],
        plan["scheduler"],
        respawner(int(plan["config_fd"]), keep),
        float(plan["shutdown_timeout"]),
        metrics(metrics_dir),
    )
    try:
        return keeper.run()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
