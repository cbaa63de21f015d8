"""Log lines, limited: a flood of bad or unknown datagrams, or of binds to a directory that
is down, must not become a flood of log lines (nor fill the disk). Thread-safe."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

PER_KEY_SECONDS = 60.0  # one line per key (e.g. a source address and a problem) per minute
BURST = 20  # and at most this many lines at once, refilled at RATE per second, over all keys
RATE = 1.0
MAX_KEYS = 4096


class LimitedLog:
    def __init__(
        self,
        logger: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
        per_key_seconds: float = PER_KEY_SECONDS,
    ) -> None:
        self.logger = logger
        self.clock = clock
        self.per_key_seconds = per_key_seconds
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._tokens = float(BURST)
        self._refilled = clock()
        self.lines = 0  # lines written (for tests)
        self._lock = threading.Lock()

    def warning(self, key: str, message: str, *args: object, exc_info: bool = False) -> None:
        with self._lock:
            more = self._admit(key)
        if more is None:
            return
        suffix = f" ({more} more like it since the last line)" if more else ""
        self.logger.warning(message + suffix, *args, exc_info=exc_info)

    def _admit(self, key: str) -> int | None:
        """None: suppressed; else how many like it were suppressed since the last line."""
        now = self.clock()
        self._tokens = min(BURST, self._tokens + (now - self._refilled) * RATE)
        self._refilled = now
        last = self._last.get(key)
        if (last is not None and now - last < self.per_key_seconds) or self._tokens < 1:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return None
        if len(self._last) >= MAX_KEYS:
            self._last.clear()
            self._suppressed.clear()
        self._tokens -= 1
        self._last[key] = now
        self.lines += 1
        return self._suppressed.pop(key, 0)
