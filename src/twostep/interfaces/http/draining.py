"""A serving process's stop, in two steps: draining (SIGTERM), then exit.

Draining starts when the process is told to stop: ``/readyz`` answers 503 from then on,
long-polls are answered at once with their current state, RADIUS takes no new request,
and whatever else registered a callback is told. The HTTP server then stops accepting,
lets the requests in flight finish (within ``shutdown_timeout``) and exits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

log = logging.getLogger("twostep.serve")


class Draining:
    def __init__(self) -> None:
        self.started = False
        self.started_at = 0.0  # time.monotonic() when draining started
        self._callbacks: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The serving loop, where :meth:`request` runs the start (the app's lifespan)."""
        self._loop = loop

    def request(self) -> None:
        """Start draining from a signal handler: on the serving loop, never inside the
        handler (it may have interrupted a callback holding a lock the start takes)."""
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self.start)

    def on_start(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when draining starts (at once if it has)."""
        self._callbacks.append(callback)
        if self.started:
            callback()

    def start(self) -> None:
        """Start draining (again: nothing more). Called from the event loop's thread."""
        if self.started:
            return
        self.started = True
        self.started_at = time.monotonic()
        log.info("draining: readiness fails, long-polls are answered, no new RADIUS request")
        for callback in self._callbacks:
            try:
                callback()
            except Exception:  # one failing must not keep the others from draining
                log.exception("a draining step failed")

    def left(self, timeout: float) -> float:
        """Seconds left of ``timeout`` counted from the start of draining; none when the
        server stops without draining (a test's end, an interrupted start)."""
        if not self.started:
            return 0.0
        return max(0.0, self.started_at + timeout - time.monotonic())
