"""Long-poll waiters: ``GET /v1/validate/{id}?wait=30`` and a device's
``GET /v1/devices/{id}/requests?wait=30``, on any node.

What they wait for may happen on another node, so the database is the only place to
learn it. One task per process asks it about every waiting key at once, every
``interval`` seconds, so a thousand waiters cost one small query per tick, not a
thousand; a change on this node wakes its waiters at once through ``poke``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

log = logging.getLogger("twostep.waiter")

Ready = Callable[[Sequence[str]], set[str]]  # which of these keys are ready (blocking)


class Waiter:
    def __init__(self, ready: Ready, interval: float = 0.025) -> None:
        self._ready = ready
        self._interval = interval
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def wait(self, transaction_id: str, timeout: float) -> None:
        """Return when the key is ready (a transaction decided or expired, a device with a
        request), or after ``timeout``."""
        if timeout <= 0:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiting.setdefault(transaction_id, []).append(future)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._poll())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(future), timeout)
        finally:
            futures = self._waiting.get(transaction_id, [])
            if future in futures:
                futures.remove(future)
            if not futures:
                self._waiting.pop(transaction_id, None)

    def poke(self) -> None:
        """Something was decided here: look now rather than at the next tick."""
        self._wake.set()

    async def _poll(self) -> None:
        while self._waiting:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            ids = list(self._waiting)
            try:
                # One query per tick, in a thread: a remote database must not stall the loop.
                ready = await asyncio.to_thread(self._ready, ids)
            except Exception:  # a database hiccup must not strand the waiters
                log.exception("long-poll: reading what is ready failed")
                continue
            for key in ready:
                for future in self._waiting.pop(key, []):
                    if not future.done():
                        future.set_result(None)
