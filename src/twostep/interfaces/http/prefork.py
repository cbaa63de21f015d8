"""Serve on every core: a pre-fork supervisor with one SO_REUSEPORT socket per worker.

Why not uvicorn's own ``--workers``: its workers share one listening socket, so a few
keep-alive clients (a VPN concentrator, an application's connection pool) all land on
whichever worker accepted first, and one core works while the other idles. Each worker
here binds its own socket with SO_REUSEPORT and the kernel spreads connections across
them. Workers are forked after the modules are imported, what they load at start preloaded
and the app built (all frozen out of the garbage collector's reach), so they share those
pages (copy-on-write) instead of holding a copy each; no database connection crosses the
fork (the app is built without one, and each worker opens its own). ``serve``'s first start
(migration, admin key) runs in a child (``apart``), so Alembic never loads here. The
configuration is the one ``serve`` built (flags included), captured before the fork:
workers read nothing. docs/performance.md says what each step saves.
Once the workers are forked, the process execs into the supervisor proper (``keeper.py``),
a small interpreter of its own: the preloaded pages are then the workers' alone, not kept
a third time by a process that only waits. One worker (the first, and whichever replaces
it) also runs the scheduled directory syncs, so a node syncs from one process.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import importlib
import importlib.util
import logging
import os
import pickle
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from types import FrameType

import uvicorn
from fastapi import FastAPI
from sqlalchemy.pool import QueuePool

from twostep.adapters.storage.backup import held_serving_locks
from twostep.config import Config
from twostep.interfaces.http import keeper
from twostep.interfaces.http.app import create_app  # imported before forking, to be shared
from twostep.interfaces.http.routers.health import QuietProbes

log = logging.getLogger("twostep.serve")

# Imported by every worker as it starts, past the app's own imports: ``create_app``
# (Jinja2's i18n extension, time.strptime's module, cryptography's OpenSSL backend) and
# the lifespan (anyio's backend for the thread hand-offs, its streams).
WORKER_IMPORTS = (
    "_strptime",
    "anyio._backends._asyncio",
    "anyio.streams.memory",
    "anyio.streams.stapled",
    "cryptography.hazmat.backends.openssl.backend",
    "fastapi.telemetry._runtime",
    "jinja2.ext",
)
PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent exits
# With the webpush extra installed, every worker loads its VAPID key through py_vapid.
OPTIONAL_WORKER_IMPORTS = ("py_vapid",)


def _bind(host: str, port: int, *, listen: bool, share: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(2048)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, whose app starts draining the moment it is told to stop (readiness
    fails, long-polls answer, RADIUS takes no new request); uvicorn then stops accepting
    and gives the requests in flight ``shutdown_timeout`` seconds."""

    def __init__(self, settings: uvicorn.Config, apps: list[FastAPI]) -> None:
        super().__init__(settings)
        self.apps = apps

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        for api in self.apps:
            api.state.draining.request()
        super().handle_exit(sig, frame)


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM outside uvicorn's hands (before it starts; after it drained, when it raises
    the signal again): exit 0, as a service asked to stop does."""
    raise SystemExit(0)


def _uvicorn(
    config: Config, access_log: bool, scheduler: bool, built: FastAPI | None = None
) -> uvicorn.Server:
    if access_log:
        logging.getLogger("uvicorn.access").addFilter(QuietProbes())
    apps: list[FastAPI] = []

    def factory() -> FastAPI:  # called in the worker: after the fork
        if built is None:
            api = create_app(config=config, scheduler=scheduler)
        else:  # built before the fork (_built): this worker's own from here on
            api = built
            api.state.twostep.storage.engine.dispose(close=False)  # empty; SQLAlchemy's rule
            api.state.scheduler = scheduler
        apps.append(api)
        return api

    return _Server(_settings(config, access_log, factory), apps)


def _settings(config: Config, access_log: bool, factory: Callable[[], FastAPI]) -> uvicorn.Config:
    return uvicorn.Config(
        factory,
        factory=True,
        log_level=config.server.log_level.lower(),
        log_config=None,  # keep serve's handler (adapters/logs.py): uvicorn's lines alike
        access_log=access_log,
        server_header=False,
        ws="none",  # no WebSocket route: the websockets library stays unloaded in every worker
        timeout_keep_alive=75,  # longer than common client pools' idle timeouts
        timeout_graceful_shutdown=config.server.shutdown_timeout,
    )


def _preload(config: Config, access_log: bool) -> None:
    """Load before forking what every worker would otherwise load for itself when it starts:
    uvicorn's event loop, HTTP parser and lifespan (chosen from the same settings), and
    what ``create_app`` reads (the pages' catalogs, compiled with Babel's locale data,
    about 5 MiB; Jinja2's i18n extension). Loaded here, the workers share one copy of it
    (copy-on-write, frozen out of the collector's reach) instead of building one each."""
    from uvicorn.config import HTTP_PROTOCOLS, LIFESPAN
    from uvicorn.importer import import_from_string

    from twostep.interfaces.web import i18n

    for name in WORKER_IMPORTS:
        importlib.import_module(name)
    for name in OPTIONAL_WORKER_IMPORTS:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    settings = _settings(config, access_log, create_app)  # what each worker will load
    settings.get_loop_factory()
    import_from_string(HTTP_PROTOCOLS[str(settings.http)])
    import_from_string(LIFESPAN[settings.lifespan])
    for language in i18n.LANGUAGES:
        i18n.translations(language)
    i18n.names()


def _built(config: Config) -> FastAPI | None:
    """The app, built once before the fork for every worker to share (its routes, models
    and wiring: about 10 MiB a worker otherwise builds for itself), or None, and each
    worker builds its own as before: with a metrics token (each process's metrics must
    be made in it), or if building it opened a database connection (none may cross a
    fork; building opens none, but that is checked, not assumed). Each worker disposes of
    the engine's empty pool and opens its own connections."""
    if config.server.metrics_token is not None:
        return None
    api = create_app(config=config)
    wired = api.state.twostep
    pool = wired.storage.engine.pool
    if isinstance(pool, QueuePool) and pool.checkedin() == 0 and pool.checkedout() == 0:
        return api
    wired.close()
    return None


def _worker(
    config: Config, access_log: bool, built: FastAPI | None, scheduler: bool, supervisor: int
) -> None:
    for sig in (signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    _stop_with(supervisor)
    sock = _bind(config.server.host, config.server.port, listen=True)
    _uvicorn(config, access_log, scheduler, built).run(sockets=[sock])


def _stop_with(supervisor: int) -> None:
    """Have the kernel send this worker SIGTERM when its supervisor exits (killed, or a
    supervisor that failed to start after its exec): the worker then drains and exits as
    on any stop, rather than serving unsupervised and holding the port."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        error = os.strerror(ctypes.get_errno())
        log.warning("a worker cannot be tied to its supervisor's life (prctl: %s)", error)
    if os.getppid() != supervisor:  # it exited before the request above took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _metrics_dir(config: Config) -> None:
    """With a metrics token: a fresh directory for the workers' metrics (prometheus_client's
    multiprocess mode), set before anything loads prometheus_client and removed at exit."""
    if config.server.metrics_token is None:
        return
    path = tempfile.mkdtemp(prefix="twostep-metrics-")  # owner-only, emptied: new every start
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)  # the supervisor's exit only


def apart(work: Callable[[], str]) -> str | None:
    """Run ``work`` in a child process and return what it returned, or None when it failed
    there (the caller then does it again in-process, so its error is reported as always).

    ``serve`` migrates the database and creates the first admin key this way: migrating
    loads Alembic and Mako (about 7 MiB) and building the wiring leaves garbage behind in
    the heap, and the workers are forked from this process: each would keep those pages,
    which no request uses, for its whole life. Done in a child, none of it is ever here
    (about 11 MiB less PSS for the tree, measured with ``bench/validate.py --memory``)."""
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child's coverage is not collected)
        os.close(read)
        code = 1
        try:
            os.write(write, b"=" + work().encode())
            code = 0
        except BaseException:  # noqa: S110  (repeated in the parent, which reports it)
            pass
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not answer.startswith(b"="):
        return None
    return answer[1:].decode()


def serve(config: Config, access_log: bool) -> None:
    host, port, workers = config.server.host, config.server.port, config.server.workers
    _metrics_dir(config)
    if workers == 1:
        signal.signal(signal.SIGTERM, _exit_cleanly)
        sock = _bind(host, port, listen=True, share=False)
        _uvicorn(config, access_log, scheduler=True).run(sockets=[sock])
        return
    # A second Twostep on the same port would join the SO_REUSEPORT group and silently
    # take half the connections: bind once without sharing, so that fails loudly.
    _bind(host, port, listen=False, share=False).close()
    # Bound but never listening: holds the port while the kernel routes no connection to it.
    holder = _bind(host, port, listen=False)
    _preload(config, access_log)
    built = _built(config)
    gc.collect()
    gc.freeze()
    signal.pthread_sigmask(signal.SIG_BLOCK, keeper.HANDED_OVER)  # until the keeper runs
    pids: list[int] = []
    try:
        for i in range(workers):
            pids.append(_fork(config, access_log, built, scheduler=i == 0))
    except OSError:  # out of processes or memory: stop the ones started, then report it
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        raise
    hand_over(config, access_log, pids, holder)


def _fork(config: Config, access_log: bool, built: FastAPI | None, scheduler: bool) -> int:
    supervisor = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child's coverage is not collected)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, keeper.HANDED_OVER)
        os._exit(run_worker(config, access_log, built, scheduler, supervisor))
    return pid


def run_worker(
    config: Config, access_log: bool, built: FastAPI | None, scheduler: bool, supervisor: int
) -> int:
    """Serve until told to stop (or until ``supervisor`` exits); the exit status."""
    try:
        _worker(config, access_log, built, scheduler, supervisor)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        log.exception("worker failed")
        return 1
    return 0


def config_file(config: Config, access_log: bool) -> int:
    """A memory file holding what a worker needs to start (``respawn.read_handed_over``),
    inheritable: only this process and the ones it starts can reach it, and it is never on
    a disk or in a command line (the configuration holds the secret key)."""
    fd = os.memfd_create("twostep-config", 0)  # no close-on-exec: the keeper keeps it
    data = pickle.dumps((config, access_log))
    written = 0
    while written < len(data):
        written += os.write(fd, data[written:])
    return fd


def hand_over(config: Config, access_log: bool, pids: list[int], holder: socket.socket) -> None:
    """Become the small supervisor (``keeper.py``) in this same process, leaving the
    preloaded interpreter's pages to the workers alone. The configuration goes into a
    memory file the keeper keeps for the workers it may have to start; the port holder and
    the serving lock stay open across the exec, for the server's life."""
    config_fd = config_file(config, access_log)
    keep = [holder.fileno(), *held_serving_locks()]
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    for fd in keep:
        os.set_inheritable(fd, True)
    plan = {
        "workers": pids,
        "scheduler": pids[0],
        "shutdown_timeout": config.server.shutdown_timeout,
        "config_fd": config_fd,
        "keep_fds": keep,
        "metrics_dir": metrics_dir,
        "log_level": config.server.log_level,
        "log_format": config.server.log_format,
        "node": config.server.node_name,
    }
    sys.stdout.flush()
    sys.stderr.flush()
    argv = keeper.command(plan)
    try:
        os.execv(argv[0], argv)  # noqa: S606  (this program's own interpreter)
    except OSError as exc:  # no interpreter to exec: supervise from here, preload and all
        log.warning("supervising in the serving process (%s)", exc)
        run = keeper.Keeper(
            pids,
            pids[0],
            keeper.respawner(config_fd, keep),
            config.server.shutdown_timeout,
            keeper.metrics(metrics_dir),
        ).run()
        holder.close()
        if run:
            sys.exit(run)
