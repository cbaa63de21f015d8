"""Duplicate detection (RFC 5080 section 2.2.2): a retransmitted request gets the reply
already sent, byte for byte, and its code is checked once.

A request is a duplicate when the source address and port, the RADIUS Identifier and the
Request Authenticator are those of one seen within the last 30 seconds. While the first
copy is still being decided, copies are dropped (the NAS retransmits again). The cache is
bounded: past ``max_entries`` the oldest entry goes first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

Key = tuple[str, int, int, bytes]  # source host, source port, Identifier, Request Authenticator

TTL_SECONDS = 30.0
MAX_ENTRIES = 65_536


class _Pending:
    """The first copy of this request is being decided."""


PENDING = _Pending()


class ReplyCache:
    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Key, tuple[float, bytes | _Pending]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self, now: float) -> None:
        entries = self._entries
        while entries:
            key, (expires, _value) = next(iter(entries.items()))
            if expires > now:
                break
            del entries[key]

    def lookup(self, key: Key) -> bytes | _Pending | None:
        """The reply already sent for this request, ``PENDING``, or None (a new request)."""
        now = self.clock()
        self._expire(now)
        found = self._entries.get(key)
        return None if found is None else found[1]

    def begin(self, key: Key) -> None:
        self._put(key, PENDING)

    def finish(self, key: Key, reply: bytes) -> None:
        self._put(key, reply)

    def abandon(self, key: Key) -> None:
        """No reply was sent (an internal error): let a retransmission be decided afresh."""
        self._entries.pop(key, None)

    def _put(self, key: Key, value: bytes | _Pending) -> None:
        entries = self._entries
        entries.pop(key, None)
        while len(entries) >= self.max_entries:
            entries.popitem(last=False)
        entries[key] = (self.clock() + self.ttl, value)
