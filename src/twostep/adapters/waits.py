"""Waiting for what may happen on another node: a challenge decided, a device's request.

Keys are transaction ids (ready: decided or expired) and a device's key (ready: the device
has a pending request; see ``domain.ports.device_key``). Waiters are threads (a RADIUS
request waiting on a push) or asyncio tasks (an HTTP long-poll). One poller thread per
process, alive only while someone waits, asks the database about every waiting key at
once, every ``interval`` seconds, so a thousand waiters cost one small query per tick;
``notify`` (a decision on this node) makes it look at once. Every wait is bounded by its
own timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger("twostep.waits")

Ready = Callable[[Sequence[str]], set[str]]  # which of these keys are ready (blocking)
_Entry = threading.Event | tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]


class PolledWaits:
    """Implements :class:`twostep.domain.ports.Waits` (and an asyncio wait for HTTP)."""

    def __init__(self, ready: Ready, interval: float = 0.025) -> None:
        self._ready = ready
        self._interval = interval
        self._lock = threading.Lock()
        self._waiting: dict[str, list[_Entry]] = {}
        self._look = threading.Event()
        self._poller: threading.Thread | None = None
        self._closed = False
        self._released = False  # draining: coroutine waits end at once

    def wait(self, key: str, timeout: float) -> None:
        """Callers look at the key themselves first: a wait only covers what comes after."""
        if timeout <= 0:
            return
        event = threading.Event()
        self._add(key, event)
        try:
            event.wait(timeout)
        finally:
            self._remove(key, event)

    async def wait_async(self, key: str, timeout: float) -> None:
        """The same wait for a coroutine: the event loop stays free."""
        if timeout <= 0 or self._released:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        self._add(key, entry)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(future), timeout)
        finally:
            self._remove(key, entry)

    def notify(self, key: str) -> None:
        """Something was decided here: look now rather than at the next tick."""
        self._look.set()

    def release_async(self) -> None:
        """The server is draining: wake every coroutine's wait now (its caller answers the
        current state) and end later ones at once. Threads' waits (a RADIUS request waiting
        for a push) go on: they are requests in flight, bounded by their own timeouts."""
        with self._lock:
            self._released = True
            woken: list[_Entry] = []
            for key, entries in list(self._waiting.items()):
                kept: list[_Entry] = [e for e in entries if isinstance(e, threading.Event)]
                woken += [e for e in entries if not isinstance(e, threading.Event)]
                if kept:
                    self._waiting[key] = kept
                else:
                    del self._waiting[key]
        for entry in woken:
            _wake(entry)

    def close(self, timeout: float = 5.0) -> None:
        """Stop polling (before the database goes away: a query in flight must finish on
        a pool that is still there). Waiters still waiting are woken; later waits return."""
        with self._lock:
            self._closed = True
            poller = self._poller
            entries = [e for waiting in self._waiting.values() for e in waiting]
            self._waiting.clear()
        self._look.set()
        for entry in entries:
            _wake(entry)
        if poller is not None and poller is not threading.current_thread():
            poller.join(timeout)

    def _add(self, key: str, entry: _Entry) -> None:
        with self._lock:
            if self._closed or (self._released and not isinstance(entry, threading.Event)):
                _wake(entry)
                return
            self._waiting.setdefault(key, []).append(entry)
            if self._poller is None:
                self._poller = threading.Thread(target=self._poll, name="waits", daemon=True)
                self._poller.start()

    def _remove(self, key: str, entry: _Entry) -> None:
        with self._lock:
            entries = self._waiting.get(key, [])
            if entry in entries:
                entries.remove(entry)
            if not entries:
                self._waiting.pop(key, None)

    def _keys_or_stop(self) -> list[str]:
        """The keys waited on; none (and this poller gone) when nobody waits or closed."""
        with self._lock:
            keys = [] if self._closed else list(self._waiting)
            if not keys:  # the next waiter starts another poller
                self._poller = None
            return keys

    def _poll(self) -> None:
        while self._keys_or_stop():
            self._look.wait(self._interval)
            self._look.clear()
            keys = self._keys_or_stop()
            if not keys:
                return
            try:
                ready = self._ready(keys)
            except Exception:  # a database hiccup must not strand the waiters
                log.exception("waiting: reading what is ready failed")
                continue
            for key in ready:
                with self._lock:
                    entries = self._waiting.pop(key, [])
                for entry in entries:
                    _wake(entry)


def _wake(entry: _Entry) -> None:
    if isinstance(entry, threading.Event):
        entry.set()
        return
    loop, future = entry
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
        loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
