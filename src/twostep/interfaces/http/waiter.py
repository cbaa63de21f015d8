"""Long-poll waiters: ``GET /v1/validate/{id}?wait=30`` on any node.

The outcome may be decided on another node, so the database is the only place to learn
it. One task per process asks it for every waiting transaction at once, every
``interval`` seconds, so a thousand waiters cost one small query per tick, not a
thousand; a decision on this node wakes its waiters at once through ``poke``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence

from twostep.domain.challenges import ChallengeState

log = logging.getLogger("twostep.waiter")

States = Callable[[Sequence[str]], Mapping[str, tuple[ChallengeState, float]]]


class Waiter:
    def __init__(self, states: States, now: Callable[[], float], interval: float = 0.05) -> None:
        self._states = states
        self._now = now
        self._interval = interval
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def wait(self, transaction_id: str, timeout: float) -> None:
        """Return when the transaction is decided or expired, or after ``timeout``."""
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
                found = await asyncio.to_thread(self._states, ids)
            except Exception:  # a database hiccup must not strand the waiters
                log.exception("long-poll: reading transaction states failed")
                continue
            now = self._now()
            for transaction_id in ids:
                state = found.get(transaction_id)
                if state is None or state[0] is not ChallengeState.PENDING or now >= state[1]:
                    for future in self._waiting.pop(transaction_id, []):
                        if not future.done():
                            future.set_result(None)
