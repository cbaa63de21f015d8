"""Structured logs: every line one record, with its time, level, logger, node, message,
request id and exception; logfmt values quoted and escaped so a line stays one line."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator

import pytest

from twostep.adapters import logs


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET}
    yield
    for name, value in quiet.items():
        logging.getLogger(name).setLevel(value)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def _record(message: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("twostep.test", level, __file__, 1, message, args, None)


def _failed() -> logging.LogRecord:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("it failed", level=logging.ERROR)
        record.exc_info = sys.exc_info()
    return record


def _logfmt(line: str) -> dict[str, str]:
    """A small independent logfmt reader: bare values, or quoted with JSON-like escapes."""
    pairs = re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^ ]*)', line)
    return {k: json.loads(v) if v.startswith('"') else v for k, v in pairs}


def test_a_json_line_has_every_field() -> None:
    line = logs.JsonFormatter("node-a").format(_record("hello %s", "world"))
    fields = json.loads(line)
    assert fields["message"] == "hello world"
    assert fields["level"] == "INFO"
    assert fields["logger"] == "twostep.test"
    assert fields["node"] == "node-a"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", fields["time"])
    assert "request_id" not in fields  # outside a request
    assert "exception" not in fields


def test_a_line_made_during_a_request_carries_its_id() -> None:
    token = logs.set_request_id("req-42")
    try:
        line = logs.JsonFormatter("node-a").format(_record("inside"))
        text = logs.LogfmtFormatter("node-a").format(_record("inside"))
    finally:
        logs.reset_request_id(token)
    assert json.loads(line)["request_id"] == "req-42"
    assert _logfmt(text)["request_id"] == "req-42"
    assert "request_id" not in json.loads(logs.JsonFormatter("n").format(_record("after")))


def test_an_exception_is_in_the_same_line() -> None:
    line = logs.JsonFormatter("node-a").format(_failed())
    assert "\n" not in line
    exception = json.loads(line)["exception"]
    assert exception.startswith("Traceback") and "ValueError: boom" in exception
    text = logs.LogfmtFormatter("node-a").format(_failed())
    assert "\n" not in text
    assert "ValueError: boom" in _logfmt(text)["exception"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("plain", "plain"),
        ("two words", '"two words"'),
        ('a "quote"', '"a \\"quote\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("a=b", '"a=b"'),
        ("line\nbreak", '"line\\nbreak"'),
        ("cr\rtab\t", '"cr\\rtab\\t"'),
        ("bell\x07del\x7f", '"bell\\u0007del\\u007f"'),
        ("c1\x85", '"c1\\u0085"'),
        ("", '""'),
        ("ünïcode", "ünïcode"),
    ],
)
def test_logfmt_quotes_and_escapes(value: str, written: str) -> None:
    assert logs.logfmt_value(value) == written


def test_a_logfmt_line_reads_back_whatever_the_message_holds() -> None:
    message = 'user "bob smith"\nsecond line\x1b[31m = \\'
    line = logs.LogfmtFormatter("node a").format(_record("%s", message))
    assert "\n" not in line and "\x1b" not in line
    fields = _logfmt(line)
    assert fields["message"] == message
    assert fields["node"] == "node a"
    assert fields["level"] == "INFO"


def test_a_json_line_escapes_control_characters() -> None:
    line = logs.JsonFormatter("n").format(_record("a\nb\x1bc"))
    assert "\n" not in line and "\x1b" not in line
    assert json.loads(line)["message"] == "a\nb\x1bc"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_logfmt_on_a_terminal_and_json_otherwise() -> None:
    assert isinstance(logs.formatter("auto", "n", _Terminal()), logs.LogfmtFormatter)
    assert isinstance(logs.formatter("auto", "n", io.StringIO()), logs.JsonFormatter)
    assert isinstance(logs.formatter("json", "n", _Terminal()), logs.JsonFormatter)
    assert isinstance(logs.formatter("logfmt", "n", io.StringIO()), logs.LogfmtFormatter)


@pytest.mark.usefixtures("restore_root")
def test_configure_sends_every_logger_through_one_handler_at_the_level() -> None:
    out = io.StringIO()
    logs.configure("WARNING", "json", "node-b", out)
    logging.getLogger("twostep.x").info("not shown")
    logging.getLogger("uvicorn.error").warning("shown")
    logging.getLogger("httpx").warning("a client's warning")
    logs.configure("DEBUG", "json", "node-b", out)
    logging.getLogger("httpx").info("GET https://ntfy.example/secret-topic")  # kept quiet
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(x["logger"], x["message"]) for x in lines] == [
        ("uvicorn.error", "shown"),
        ("httpx", "a client's warning"),
    ]
    assert {x["node"] for x in lines} == {"node-b"}
    assert len(logging.getLogger().handlers) == 1


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("abc-123", True),
        ("a" * 128, True),
        ("with space and !~", True),
        ("a" * 129, False),
        ("", False),
        (None, False),
        ("tab\there", False),
        ("line\nbreak", False),
        ("del\x7f", False),
        ("caf\u00e9", False),
    ],
)
def test_a_sent_request_id_is_kept_only_when_short_printable_ascii(
    sent: str | None, kept: bool
) -> None:
    got = logs.accepted_request_id(sent)
    if kept:
        assert got == sent
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", got)


def test_new_request_ids_differ() -> None:
    assert len({logs.new_request_id() for _ in range(100)}) == 100
