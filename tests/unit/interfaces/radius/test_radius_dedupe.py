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


def test_a_request_stays_pending_however_long_its_decision_takes() -> None:
    """A push may wait up to 120 s (more with upstream servers): its copies are held, never
    decided afresh (a second push) or answered early, past the replies' 30 s."""
    clock = Clock()
    cache = ReplyCache(clock=clock)
    cache.begin(KEY)
    clock.now += 150
    assert cache.lookup(KEY) is PENDING


def test_the_reply_is_kept_from_when_it_was_sent_not_from_the_first_copy() -> None:
    clock = Clock()
    cache = ReplyCache(clock=clock)
    cache.begin(KEY)
    clock.now += 100  # the user approved the push late
    cache.finish(KEY, b"reply")
    clock.now += 10  # MFA Server held the answer 10 s; this cache 30 s
    assert cache.lookup(KEY) == b"reply"


def test_a_leaked_pending_entry_ends_and_pending_entries_are_bounded() -> None:
    clock = Clock()
    cache = ReplyCache(max_entries=2, clock=clock, pending_seconds=600)
    cache.begin(KEY)
    clock.now += 601
    assert cache.lookup(KEY) is None
    keys = [("h", 1, i, b"x" * 16) for i in range(3)]
    for key in keys:
        cache.begin(key)
    assert [cache.lookup(k) for k in keys] == [None, PENDING, PENDING]
