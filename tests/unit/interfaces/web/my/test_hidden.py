"""An enrollment link's token never reaches the access log."""

from __future__ import annotations

import logging

from twostep.interfaces.web.my.hidden import HiddenLinks


def access_line(path: str) -> str:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200),
        None,
    )
    assert HiddenLinks().filter(record)
    return record.getMessage()


def test_the_token_is_written_as_stars() -> None:
    line = access_line("/my/enroll/Zx3kq9secrettoken")
    assert "Zx3kq9secrettoken" not in line and "/my/enroll/*** HTTP/1.1" in line


def test_other_paths_are_left_alone() -> None:
    assert "/my/signin HTTP/1.1" in access_line("/my/signin")
