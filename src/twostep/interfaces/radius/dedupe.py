"""Duplicate detection (RFC 5080 section 2.2.2): a retransmitted request gets the reply
already sent, byte for byte, and its code is checked once.

A request is a duplicate when the source address and port, the RADIUS Identifier and the
Request Authenticator are those of one seen before. Two holds, as Azure MFA Server had:

* while the first copy is being decided (a push or a call waiting for the user, an
  upstream RADIUS server asked for the password) its copies are dropped, however long the
  decision takes: no second push or call, and no early answer. The NAS retransmits again
  and gets the reply once there is one. A pending entry ends with its decision (or its
  abandonment); ``PENDING_SECONDS`` only bounds one a lost task would leave behind.
* the reply is kept ``TTL_SECONDS`` (30 s, more than the 10 s MFA Server held it) after it
  was sent, for the copies that crossed it.

Both are bounded: past ``max_entries`` the oldest entry goes first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

Key = tuple[str, int, int, bytes]  # source host, source port, Identifier, Request Authenticator

TTL_SECONDS = 30.0
# Longer than any decision: a push wait (120 s at most) after up to 8 upstream servers'
# timeouts (30 s each at most). Only a leaked entry gets this old.
PENDING_SECONDS = 600.0
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
        pending_seconds: float = PENDING_SECONDS,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self.pending_seconds = pending_seconds
        # Replies, oldest first (all kept ``ttl``, so the first to expire comes first).
        self._entries: OrderedDict[Key, tuple[float, bytes]] = OrderedDict()
        # Requests being decided, oldest first, with the time past which they are let go.
        self._pending: OrderedDict[Key, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries) + len(self._pending)

    def _expire(self, now: float) -> None:
        replies, pending = self._entries, self._pending
        while replies and next(iter(replies.values()))[0] <= now:
            replies.popitem(last=False)
        while pending and next(iter(pending.values())) <= now:
            pending.popitem(last=False)

    def lookup(self, key: Key) -> bytes | _Pending | None:
        """The reply already sent for this request, ``PENDING``, or None (a new request)."""
        self._expire(self.clock())
        if key in self._pending:
            return PENDING
        found = self._entries.get(key)
        return None if found is None else found[1]

    def begin(self, key: Key) -> None:
        self._entries.pop(key, None)
        self._pending.pop(key, None)
        self._make_room(self._pending)
        self._pending[key] = self.clock() + self.pending_seconds

    def finish(self, key: Key, reply: bytes) -> None:
        """The reply was sent: kept ``ttl`` from now for the copies still to come."""
        self._pending.pop(key, None)
        self._entries.pop(key, None)
        self._make_room(self._entries)
        self._entries[key] = (self.clock() + self.ttl, reply)

    def abandon(self, key: Key) -> None:
        """No reply was sent (an internal error): let a retransmission be decided afresh."""
        self._pending.pop(key, None)
        self._entries.pop(key, None)

    def _make_room(self, entries: OrderedDict[Key, Any]) -> None:
        while len(entries) >= self.max_entries:
            entries.popitem(last=False)
