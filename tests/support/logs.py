"""The server's logging as ``serve`` sets it up, captured for a test."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from twostep.adapters import logs


class Captured:
    def __init__(self) -> None:
        self.out = io.StringIO()

    def text(self) -> str:
        return self.out.getvalue()

    def lines(self, *, server_only: bool = True) -> list[dict[str, Any]]:
        """Every JSON line; ``server_only`` leaves out the test's own HTTP client."""
        found = [json.loads(line) for line in self.text().splitlines()]
        return [x for x in found if not (server_only and x["logger"].startswith("httpx2"))]


@contextmanager
def captured(level: str = "DEBUG", log_format: logs.LogFormat = "json") -> Iterator[Captured]:
    root = logging.getLogger()
    handlers, level_before = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET}
    capture = Captured()
    logs.configure(level, log_format, "node-a", capture.out)
    try:
        yield capture
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level_before)
        for name, value in quiet.items():
            logging.getLogger(name).setLevel(value)
