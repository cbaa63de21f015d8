"""Limited log lines: one line per problem a minute, a bounded burst over all problems,
and the count of what was held back."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from twostep.adapters.ratelog import BURST, LimitedLog


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_key_a_minute_then_the_count_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    limited = LimitedLog(logging.getLogger("test.ratelog"), clock)
    with caplog.at_level(logging.WARNING, "test.ratelog"):
        for _ in range(5):
            limited.warning("down", "directory down: %s", "refused")
        clock.now = 61
        limited.warning("down", "directory down: %s", "refused")
    assert [r.getMessage() for r in caplog.records] == [
        "directory down: refused",
        "directory down: refused (4 more like it since the last line)",
    ]


def test_a_burst_over_many_keys_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    limited = LimitedLog(logging.getLogger("test.ratelog"), Clock())
    with caplog.at_level(logging.WARNING, "test.ratelog"):
        for i in range(1000):
            limited.warning(f"key{i}", "problem %d", i)
    assert len(caplog.records) == BURST == limited.lines


def test_threads_share_one_budget(caplog: pytest.LogCaptureFixture) -> None:
    limited = LimitedLog(logging.getLogger("test.ratelog"), Clock())
    with caplog.at_level(logging.WARNING, "test.ratelog"), ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: limited.warning("same", "bind failed"), range(400)))
    assert len(caplog.records) == 1
