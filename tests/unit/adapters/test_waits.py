"""Waiting on what another node may decide: a decision here wakes at once, the database
is asked about every waiting key at once, and every wait ends by its own deadline."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

from twostep.adapters.waits import PolledWaits


class Database:
    """Stands in for the one query: which of these keys are ready."""

    def __init__(self) -> None:
        self.ready: set[str] = set()
        self.asked: list[list[str]] = []

    def __call__(self, keys: Sequence[str]) -> set[str]:
        self.asked.append(sorted(keys))
        return self.ready & set(keys)


def _in_thread(
    waits: PolledWaits, key: str, timeout: float
) -> tuple[threading.Thread, list[float]]:
    took: list[float] = []

    def run() -> None:
        started = time.monotonic()
        waits.wait(key, timeout)
        took.append(time.monotonic() - started)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, took


def test_a_key_decided_on_another_node_is_seen_at_the_next_poll() -> None:
    db = Database()
    waits = PolledWaits(db, interval=0.02)
    thread, took = _in_thread(waits, "tx1", timeout=5)
    time.sleep(0.1)
    db.ready.add("tx1")  # another node decided
    thread.join(timeout=5)
    assert took and took[0] < 1


def test_a_decision_here_is_looked_at_at_once() -> None:
    db = Database()
    waits = PolledWaits(db, interval=30)  # the poll alone would take 30 s
    thread, took = _in_thread(waits, "tx1", timeout=10)
    time.sleep(0.1)
    db.ready.add("tx1")
    waits.notify("tx1")
    thread.join(timeout=5)
    assert took and took[0] < 1


def test_every_waiting_key_is_asked_about_in_one_query() -> None:
    db = Database()
    waits = PolledWaits(db, interval=0.1)  # some 20 polls in the 2 s below
    # Long enough that all 50 are waiting at once even when starting threads is slow (a
    # busy machine): each ends by its deadline, none is answered.
    threads = [_in_thread(waits, f"tx{i}", timeout=2.0)[0] for i in range(50)]
    for thread in threads:
        thread.join(timeout=5)
    assert max(len(keys) for keys in db.asked) == 50
    assert len(db.asked) < 50  # not one query per waiter


def test_a_wait_ends_by_its_deadline_and_the_poller_stops() -> None:
    db = Database()
    waits = PolledWaits(db, interval=0.02)
    thread, took = _in_thread(waits, "never", timeout=0.2)
    thread.join(timeout=5)
    assert took and 0.15 < took[0] < 1
    time.sleep(0.1)
    assert not any(t.name == "waits" and t.is_alive() for t in threading.enumerate())


def test_coroutines_wait_without_holding_the_event_loop() -> None:
    db = Database()
    waits = PolledWaits(db, interval=0.02)

    async def main() -> tuple[float, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        asyncio.get_running_loop().call_later(0.2, db.ready.add, "tx1")
        started = time.monotonic()
        await waits.wait_async("tx1", 5)
        ticker.cancel()
        return time.monotonic() - started, ticks

    took, ticks = asyncio.run(main())
    assert took < 1
    assert ticks >= 5  # the loop kept running while it waited


def test_closing_wakes_the_waiters_and_stops_the_poller_first() -> None:
    db = Database()
    waits = PolledWaits(db, interval=0.02)
    thread, took = _in_thread(waits, "tx1", timeout=30)
    time.sleep(0.1)
    waits.close()
    thread.join(timeout=5)
    assert took and took[0] < 5
    asked = len(db.asked)
    waits.wait("tx2", 0.2)  # after close: returns at once, asks nothing
    assert len(db.asked) == asked
    assert not any(t.name == "waits" and t.is_alive() for t in threading.enumerate())


def test_draining_answers_coroutines_now_and_lets_threads_wait_on() -> None:
    db = Database()
    waits = PolledWaits(db, interval=0.02)
    thread, took = _in_thread(waits, "tx-radius", timeout=30)

    async def main() -> tuple[float, float]:
        started = time.monotonic()
        poll = asyncio.create_task(waits.wait_async("tx-poll", 30))
        await asyncio.sleep(0.1)
        waits.release_async()
        await poll
        first = time.monotonic() - started
        started = time.monotonic()
        await waits.wait_async("tx-later", 30)  # after: at once
        return first, time.monotonic() - started

    first, later = asyncio.run(main())
    assert first < 1 and later < 0.1
    assert not took  # the thread's wait (a RADIUS request) goes on...
    db.ready.add("tx-radius")  # ...until its answer comes
    thread.join(timeout=5)
    assert took and took[0] < 5
    waits.close()
