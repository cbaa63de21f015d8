"""The RADIUS server: one asyncio UDP endpoint per serving process.

With several pre-forked workers each binds its own socket with SO_REUSEPORT on the same
address, and a small BPF program (``steering``) picks the worker by the RADIUS Identifier:
one NAS sending from one source port still uses every worker, and a retransmission,
which keeps its Identifier, reaches the worker whose duplicate cache saw the first copy.

Decisions run on the event loop when the database is cheap to call from it (SQLite, a
local PostgreSQL; see ``SqlStorage.inline``), else in a thread pool; password checks
(argon2) always run in a small pool of their own. Clients are reloaded from the database
every few seconds, so one added with the CLI or the API answers on every node soon after.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from twostep.adapters.logs import reset_request_id, set_request_id
from twostep.adapters.ratelog import LimitedLog
from twostep.bootstrap import App
from twostep.interfaces.radius.clients import ClientTable
from twostep.interfaces.radius.dedupe import ReplyCache
from twostep.interfaces.radius.handler import RadiusHandler, Work
from twostep.interfaces.radius.steering import attach as steer

log = logging.getLogger("twostep.radius")

RELOAD_SECONDS = 5.0
MAX_IN_FLIGHT = 256  # decisions waiting for a thread; past it new requests are dropped
DB_THREADS = 16
# Requests that wait on people or providers (a push approval, a call, a gateway sending a
# text) get threads of their own, so up to this many waits never hold up the codes.
WAIT_THREADS = 64
RECEIVE_BUFFER = 4 << 20
# The handler's reasons for dropping a datagram, by their name in the metrics.
DROP_CAUSES = {
    "unknown": "unknown_client",
    "malformed": "malformed",
    "code": "unsupported_code",
    "ma": "bad_authenticator",
    "no-ma": "no_authenticator",
    "proxy-state": "proxy_state",
    "pending": "in_progress",
}


def bind(host: str, port: int, *, reuse_port: bool, workers: int = 1) -> socket.socket:
    """The server's UDP socket; with ``reuse_port``, one of the ``workers`` sockets of an
    SO_REUSEPORT group that spreads datagrams over them by Identifier."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        # Room for a burst while the loop is busy (the kernel caps it at rmem_max).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.bind((host, port))
        if reuse_port and workers > 1:
            steer(sock, workers)  # refused: logged, and the kernel's hash still works
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: RadiusServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.server.received(data, addr)

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable
        log.debug("RADIUS socket error: %s", exc)


class RadiusServer:
    def __init__(
        self, app: App, host: str, port: int, *, reuse_port: bool = False, workers: int = 1
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.reuse_port = reuse_port
        self.workers = workers
        self.table = ClientTable([])
        self.cache = ReplyCache()
        self.limited = LimitedLog(log)
        self.handler = RadiusHandler(app, lambda: self.table, self.cache, self.limited)
        self.metrics = app.metrics
        if self.metrics is not None:
            counted = self.metrics
            self.handler.on_drop = lambda cause: counted.radius_drop(DROP_CAUSES.get(cause, cause))
        self.errors = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._reloader: asyncio.Task[None] | None = None
        self.draining = False  # stopping: new requests are dropped (the NAS fails over)
        self._db = ThreadPoolExecutor(DB_THREADS, thread_name_prefix="radius-db")
        self._waits = ThreadPoolExecutor(WAIT_THREADS, thread_name_prefix="radius-wait")

    @property
    def address(self) -> tuple[str, int]:
        assert self._transport is not None
        name = self._transport.get_extra_info("sockname")
        return str(name[0]), int(name[1])

    async def start(self) -> None:
        await self.reload()
        sock = bind(self.host, self.port, reuse_port=self.reuse_port, workers=self.workers)
        loop = asyncio.get_running_loop()
        transport, _protocol = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), sock=sock
        )
        self._transport = transport
        self._reloader = loop.create_task(self._reload_forever())
        log.info("RADIUS listening on udp %s:%d with %d client(s)", *self.address, len(self.table))

    def drain(self) -> None:
        """Take no new request (a NAS retries its next server); the ones in flight go on."""
        self.draining = True

    async def close(self, timeout: float = 0.0) -> None:
        """Stop: the requests in flight get up to ``timeout`` seconds to be answered, then
        are cut (their NAS retransmits to another server)."""
        self.draining = True
        if self._reloader is not None:
            self._reloader.cancel()
        if self._tasks and timeout > 0:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        if self._transport is not None:
            self._transport.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._db.shutdown(wait=False, cancel_futures=True)
        self._waits.shutdown(wait=False, cancel_futures=True)

    async def reload(self) -> None:
        """Load the clients afresh (every ``RELOAD_SECONDS``; tests call it directly)."""
        loaded = await self._blocking(self.app.radius_clients.load_active)
        self.table = ClientTable(loaded)

    async def _reload_forever(self) -> None:
        while True:
            await asyncio.sleep(RELOAD_SECONDS)
            try:
                await self.reload()
            except Exception:  # the database is away: keep the clients we have
                log.exception("could not reload the RADIUS clients; keeping the last ones")

    async def _blocking(
        self, func: Any, *args: Any, executor: ThreadPoolExecutor | None = None
    ) -> Any:
        if executor is None and self.app.storage.inline:
            return func(*args)
        return await asyncio.get_running_loop().run_in_executor(executor or self._db, func, *args)

    # -- datagrams ------------------------------------------------------------------------

    def received(self, data: bytes, addr: Any) -> None:
        """Never raises: whatever a datagram holds, the server goes on."""
        started = time.perf_counter()
        if self.metrics is not None:
            self.metrics.radius_packet()
        if self.draining:
            if self.metrics is not None:
                self.metrics.radius_drop("draining")
            return
        step: bytes | Work | None = None
        try:
            step = self.handler.receive(data, addr)
            if step is None:
                return
            if isinstance(step, bytes):
                self._answered(step, None)
                self._send(step, addr)
            elif step.slow or step.blocking or not self.app.storage.inline:
                self._later(step, addr, started)
            else:
                reply = self.handler.decide(step)
                self._answered(reply, started)
                self._send(reply, addr)
        except Exception:
            self._failed(addr, step if isinstance(step, Work) else None)

    def _later(self, work: Work, addr: Any, started: float) -> None:
        if len(self._tasks) >= MAX_IN_FLIGHT:
            self.cache.abandon(work.key)
            if self.metrics is not None:
                self.metrics.radius_drop("busy")
            self.limited.warning(
                "busy", "RADIUS busy: %d decisions waiting; dropped one", len(self._tasks)
            )
            return
        task = asyncio.get_running_loop().create_task(self._decide(work, addr, started))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _decide(self, work: Work, addr: Any, started: float) -> None:
        # Password checks may go on to wait for a push: they share the waiting threads, and
        # the handler bounds how many argon2 verifications run at once.
        executor = self._waits if work.slow or work.blocking else self._db
        try:
            reply = await asyncio.get_running_loop().run_in_executor(
                executor, self.handler.decide, work
            )
        except asyncio.CancelledError:
            self.cache.abandon(work.key)
            raise
        except Exception:
            self._failed(addr, work)
            return
        self._answered(reply, started)
        self._send(reply, addr)

    def _failed(self, addr: Any, work: Work | None) -> None:
        """Log the exception being handled, with the request's id when it had one."""
        self.errors += 1
        token = set_request_id(work.request_id if work is not None else None)
        try:
            self.limited.warning("error", "RADIUS request from %s failed", addr[0], exc_info=True)
        finally:
            reset_request_id(token)

    def _send(self, reply: bytes, addr: Any) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(reply, addr)

    def _answered(self, reply: bytes, started: float | None) -> None:
        """Count a reply about to be sent; ``started``: when its request arrived (None for a
        duplicate's cached reply, which took no time to decide)."""
        if self.metrics is not None:
            self.metrics.radius_reply(reply, started)


async def start(app: App) -> RadiusServer:
    """The RADIUS server of ``app``'s config, started on the running loop."""
    config, workers = app.config.radius, app.config.server.workers
    # Every worker of `twostep serve` binds one socket of the group; one needs no group.
    server = RadiusServer(app, config.host, config.port, reuse_port=workers > 1, workers=workers)
    await server.start()
    return server
