"""Structured logs: one line per record, JSON lines or logfmt, with the request id.

Every line carries ``time`` (RFC 3339, UTC, milliseconds), ``level``, ``logger``, ``node``,
``message``, ``request_id`` when the record was made while a request was being handled
(HTTP or RADIUS; the interfaces set it in a context variable that follows the request into
its worker thread) and ``exception`` when there is one. ``configure`` installs it on the
root logger once, before ``serve`` forks its workers, so every process logs the same way.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["auto", "json", "logfmt"]

MAX_REQUEST_ID = 128

# The id of the request being handled in this context (None outside a request).
_request_id: ContextVar[str | None] = ContextVar("twostep_request_id", default=None)

# Libraries that log full URLs (an ntfy topic, a webhook path) at INFO/DEBUG.
QUIET = ("httpx", "httpcore", "urllib3", "hpack", "multipart", "python_multipart", "asyncio")


def new_request_id() -> str:
    # 128 random bits as 32 hex digits (a UUID object first cost ~3 us a request).
    return os.urandom(16).hex()


def accepted_request_id(sent: str | None) -> str:
    """The caller's id when it is 1-128 printable ASCII characters, else a new one: the
    value is only ever copied into logs and the audit log, never interpreted."""
    if sent and len(sent) <= MAX_REQUEST_ID and all(" " <= c <= "~" for c in sent):
        return sent
    return new_request_id()


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(request_id: str | None) -> Token[str | None]:
    return _request_id.set(request_id)


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


class ContextRequestIds:
    """The ``RequestIds`` port: the id the interface set for the request in hand."""

    def current(self) -> str | None:
        return _request_id.get()


def _fields(record: logging.LogRecord, node: str) -> dict[str, str]:
    at = datetime.fromtimestamp(record.created, UTC)
    fields = {
        "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": record.levelname,
        "logger": record.name,
        "node": node,
        "message": record.getMessage(),
    }
    request_id = _request_id.get()
    if request_id is not None:
        fields["request_id"] = request_id
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        fields["exception"] = record.exc_text
    if record.stack_info:
        fields["stack"] = record.stack_info
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line (newlines inside values are escaped by JSON)."""

    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record, self.node), ensure_ascii=False)


class LogfmtFormatter(logging.Formatter):
    """``key=value`` pairs, for a person at a terminal; a value with a space, ``=``, a
    quote, a backslash or a control character is quoted and escaped, so a record is always
    one line."""

    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={logfmt_value(v)}" for k, v in _fields(record, self.node).items())


def logfmt_value(value: str) -> str:
    if value and not any(c in ' ="\\' or c < " " or "\x7f" <= c <= "\x9f" for c in value):
        return value
    out = []
    for c in value:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c < " " or "\x7f" <= c <= "\x9f":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def formatter(log_format: LogFormat, node: str, stream: TextIO) -> logging.Formatter:
    """``auto``: logfmt when ``stream`` is a terminal, JSON lines otherwise."""
    if log_format == "auto":
        isatty = getattr(stream, "isatty", None)
        log_format = "logfmt" if isatty is not None and isatty() else "json"
    return LogfmtFormatter(node) if log_format == "logfmt" else JsonFormatter(node)


def configure(
    level: str, log_format: LogFormat, node: str, stream: TextIO | None = None
) -> logging.Handler:
    """Send every record at ``level`` and above to ``stream`` (stderr) in the chosen
    format, replacing the root logger's handlers. Returns the handler."""
    out = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter(log_format, node, out))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in QUIET:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return handler
