"""Which layout a token file is in, decided from its content (never its name), and what
the CSV readers share: rows, and giving up early on a file in no layout they know.

The CLI and the API both call :func:`detect` unless the operator names a format.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Literal, get_args

from twostep.adapters.importers.records import ImportProblem, ImportRefused

Format = Literal["pskc", "csv", "oathcsv", "yubico"]
FORMATS: tuple[str, ...] = get_args(Format)

UNDERSTOOD = (
    "the layouts understood are: PSKC (RFC 6030) XML; CSV 'serial, secret, time interval' "
    "(base32 secrets) or Entra ID's 'upn, serial number, secret key, time interval, "
    "manufacturer, model', or any of their columns named in a header line; oathcsv "
    "'serial, hex seed, hotp or totp, digits, time step or counter'; the YubiKey Personalization "
    "Tool's log (traditional or Yubico format)"
)
# A file whose first rows all fail is in a layout nobody here knows: listing hundreds of
# row errors would only hide that.
GIVE_UP_AFTER = 5

# The YubiKey Personalization Tool's traditional log starts each row with its event type.
YUBICO_EVENTS = (
    "oath-hotp",
    "yubico otp",
    "static password",
    "challenge-response",
    "configuration update",
    "configuration swap",
    "logging start",
)
_HEX = re.compile(r"[0-9a-fA-F]{32,40}")
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_OATH_TYPES = ("hotp", "totp", "ocra")
_SNIFF = 64 * 1024  # bytes read to decide


def detect(data: bytes) -> Format:
    """The layout of a token file, from its first meaningful line."""
    head = data[:_SNIFF].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "pskc"
    text = head.decode("utf-8", errors="replace")
    try:
        for _line, cells in rows(io.StringIO(text, newline="")):
            return _csv_layout(cells)
    except ImportRefused:
        pass  # not CSV either: the CSV reader says why
    return "csv"


def _csv_layout(cells: list[str]) -> Format:
    first = cells[0].lower()
    if first.startswith(YUBICO_EVENTS):
        return "yubico"
    if (
        first.isdigit()
        and len(cells) >= 6
        and _HEX.fullmatch(cells[3])
        and _ISO_TIME.match(cells[5])
    ):
        return "yubico"
    if len(cells) >= 3 and cells[2].lower() in _OATH_TYPES:
        return "oathcsv"
    return "csv"


def delimiter(first_line: str) -> str:
    if "," in first_line:
        return ","
    if ";" in first_line:
        return ";"
    if "\t" in first_line:
        return "\t"
    return ","


def rows(lines: Iterator[str] | io.StringIO) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every row that is neither blank nor a ``#`` comment; a
    malformed row is a refusal of the file."""
    source = iter(lines)
    offset = 0
    first: str | None = None
    for text in source:
        if text.strip() and not text.lstrip().startswith("#"):
            first = text
            break
        offset += 1
    if first is None:
        return
    reader = csv.reader(_chain(first, source), delimiter=delimiter(first))
    try:
        for cells in reader:
            stripped = [c.strip() for c in cells]
            while stripped and not stripped[-1]:
                stripped.pop()
            if stripped and not stripped[0].startswith("#"):
                yield reader.line_num + offset, stripped
    except csv.Error as exc:
        line = reader.line_num + offset
        raise ImportRefused.single(f"the file is not valid CSV: {exc}", line=line) from None


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefused.single("the file is not UTF-8 text", line=line) from None


class Tally:
    """A reader's problems; it gives up when the first rows all fail."""

    def __init__(self, layout: str) -> None:
        self.layout = layout
        self.problems: list[ImportProblem] = []
        self.good = 0
        self.bad_rows = 0

    def row(self, problems: list[ImportProblem]) -> None:
        if not problems:
            self.good += 1
            return
        self.problems.extend(problems)
        self.bad_rows += 1
        if self.good == 0 and self.bad_rows >= GIVE_UP_AFTER:
            stop = (
                f"stopped after {self.bad_rows} rows, none of which reads as {self.layout}: "
                f"{UNDERSTOOD} (a format can be named: CLI --format, API format)"
            )
            raise ImportRefused([*self.problems, ImportProblem(stop)])
