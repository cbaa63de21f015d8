from __future__ import annotations

from twostep.interfaces.radius.dedupe import PENDING, ReplyCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


KEY = ("127.0.0.1", 5000, 7, b"a" * 16)


def test_a_reply_is_kept_for_thirty_seconds() -> None:
    clock = Clock()
    cache = ReplyCache(clock=clock)
    assert cache.lookup(KEY) is None
    cache.begin(KEY)
    assert cache.lookup(KEY) is PENDING
    cache.finish(KEY, b"reply")
    clock.now += 29.9
    assert cache.lookup(KEY) == b"reply"
    clock.now += 0.2
    assert cache.lookup(KEY) is None
    assert len(cache) == 0


def test_the_key_is_source_port_id_and_authenticator() -> None:
    cache = ReplyCache(clock=Clock())
    cache.finish(KEY, b"reply")
    for other in (
        ("127.0.0.2", 5000, 7, b"a" * 16),
        ("127.0.0.1", 5001, 7, b"a" * 16),
        ("127.0.0.1", 5000, 8, b"a" * 16),
        ("127.0.0.1", 5000, 7, b"b" * 16),
    ):
        assert cache.lookup(other) is None


def test_abandoned_requests_are_decided_afresh() -> None:
    cache = ReplyCache(clock=Clock())
    cache.begin(KEY)
    cache.abandon(KEY)
    assert cache.lookup(KEY) is None


def test_the_cache_is_bounded_oldest_first() -> None:
    clock = Clock()
    cache = ReplyCache(max_entries=3, clock=clock)
    keys = [("h", 1, i, b"x" * 16) for i in range(5)]
    for key in keys:
        clock.now += 1
        cache.finish(key, b"r")
    assert len(cache) == 3
    assert [cache.lookup(k) for k in keys] == [None, None, b"r", b"r", b"r"]
