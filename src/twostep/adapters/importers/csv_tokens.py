"""CSV token files as vendors ship them.

Layouts:

* ``serial, secret, time interval`` (the common vendor layout), with or without a header;
* ``upn, serial number, secret key, time interval, manufacturer, model`` (the wide layout),
  where a non-empty ``upn`` asks for the token to be assigned to that user;
* with a header line, any order of the known columns, plus the optional ``digits``,
  ``algorithm``, ``type`` (TOTP, the default, or HOTP) and ``counter`` (HOTP). Without a
  header the optional columns may follow the wide layout's six, in that order.

Secrets are base32 (any case, spaces ignored, padding optional) or ``hex:...``.
The delimiter is a comma, or a semicolon or tab when the first line has no comma.
Blank lines and lines starting with ``#`` are skipped. Rows are read one at a time;
only the records are kept. Any problem refuses the whole file, and every bad row is
reported with its line number, unless the first rows all fail: the file is then in
another layout, and the refusal says which layouts are understood.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator

from twostep.adapters.importers import layouts, rules
from twostep.adapters.importers.records import ImportProblem, ImportRefused, TokenRecord
from twostep.domain.entities import OtpParams, OtpType
from twostep.factors.otp import parse_seed

UPN = "upn"
SERIAL = "serial"
SECRET = "secret"  # noqa: S105 - a column name
INTERVAL = "interval"
MANUFACTURER = "manufacturer"
MODEL = "model"
DIGITS = "digits"
ALGORITHM = "algorithm"
TYPE = "type"
COUNTER = "counter"

# Header names as vendors spell them, after lower-casing and turning ``_``/``-`` into spaces.
_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ("upn", "user", "username", "user name", "user principal name", "userprincipalname"),
        UPN,
    ),
    **dict.fromkeys(
        ("serial", "serial number", "serialnumber", "serial no", "serialno", "sn"), SERIAL
    ),
    **dict.fromkeys(("secret", "secret key", "secretkey", "seed", "key", "otp key"), SECRET),
    **dict.fromkeys(
        ("time interval", "timeinterval", "interval", "period", "time step", "timestep"),
        INTERVAL,
    ),
    **dict.fromkeys(("manufacturer", "vendor"), MANUFACTURER),
    **dict.fromkeys(("model",), MODEL),
    **dict.fromkeys(("digits", "otp length", "otplength", "length"), DIGITS),
    **dict.fromkeys(("algorithm", "hash", "hash algorithm"), ALGORITHM),
    **dict.fromkeys(("type", "token type", "tokentype", "otp type"), TYPE),
    **dict.fromkeys(("counter",), COUNTER),
}

VENDOR_LAYOUT = (SERIAL, SECRET, INTERVAL)
WIDE_LAYOUT = (UPN, SERIAL, SECRET, INTERVAL, MANUFACTURER, MODEL, DIGITS, ALGORITHM, TYPE, COUNTER)
_WIDE_MIN = 6

_LAYOUT_HELP = (
    "without a header line a row needs 3 columns (serial number, secret key, time interval) "
    "or 6 to 10 (upn, serial number, secret key, time interval, manufacturer, model, "
    "then optionally digits, algorithm, type, counter)"
)


def read_csv(data: bytes | str) -> list[TokenRecord]:
    """Every token of a CSV file, or ImportRefused listing every bad row."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ImportRefused.single("the file is not UTF-8 text", line=line) from None
    else:
        text = data.removeprefix("\ufeff")
    return read_csv_lines(io.StringIO(text, newline=""))


def read_csv_lines(lines: Iterable[str]) -> list[TokenRecord]:
    """Like :func:`read_csv`, over lines of text (an open text file, say), one at a time.
    When the first rows all fail, it stops there and names the layouts it understands."""
    records: list[TokenRecord] = []
    tally = layouts.Tally("a CSV of tokens")
    seen: dict[str, int] = {}  # serial -> first line
    for line, row_or_problems in _rows(lines):
        if isinstance(row_or_problems, list):
            tally.row(row_or_problems)
            continue
        found: list[ImportProblem] = []
        serial = row_or_problems.get(SERIAL, "")
        first = seen.setdefault(serial, line) if serial else line
        try:
            record = _record(row_or_problems, line)
        except _RowError as exc:
            found.extend(ImportProblem(reason, line=line) for reason in exc.reasons)
        else:
            if first == line:  # kept after a problem too: their own problems get listed
                records.append(record)
        if first != line:
            found.append(ImportProblem(f"serial {serial} is already on line {first}", line=line))
        tally.row(found)
    if tally.problems:
        raise ImportRefused(tally.problems, valid=records)
    if not records:
        raise ImportRefused.single("the file holds no tokens")
    return records


class _RowError(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str] | list[ImportProblem]]]:
    """(line number, cells by column) per data row; (line, problems) for a row that cannot
    be mapped to columns. A header line that cannot be read refuses the file at once."""
    source = iter(lines)
    offset = 0  # blank and comment lines before the first row, which the reader never sees
    first: str | None = None
    for text in source:
        if text.strip() and not text.lstrip().startswith("#"):
            first = text
            break
        offset += 1
    if first is None:
        return
    reader = csv.reader(itertools.chain([first], source), delimiter=layouts.delimiter(first))
    columns: tuple[str, ...] | None = None
    try:
        for cells in reader:
            line = reader.line_num + offset
            stripped = [c.strip() for c in cells]
            while stripped and not stripped[-1]:
                stripped.pop()
            if not stripped or stripped[0].startswith("#"):
                continue
            if columns is None:
                columns = _header(stripped, line)
                if columns is not None:
                    continue
                columns = _headerless_layout(len(stripped), line)
            if len(stripped) > len(columns):
                reason = f"the row has {len(stripped)} columns, expected at most {len(columns)}"
                yield line, [ImportProblem(reason, line=line)]
                continue
            padded = stripped + [""] * (len(columns) - len(stripped))
            yield line, dict(zip(columns, padded, strict=True))
    except csv.Error as exc:
        line = reader.line_num + offset
        yield line, [ImportProblem(f"the file is not valid CSV: {exc}", line=line)]


def _normalise(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").replace("-", " ").split())


def _header(cells: list[str], line: int) -> tuple[str, ...] | None:
    """The columns a header line names, None when the line is data."""
    names = [_normalise(c) for c in cells]
    if not any(n in _ALIASES for n in names):
        return None
    reasons: list[str] = []
    columns: list[str] = []
    for cell, name in zip(cells, names, strict=True):
        column = _ALIASES.get(name)
        if column is None:
            reasons.append(f"unknown column {cell[:40]!r} in the header")
        elif column in columns:
            reasons.append(f"column {cell[:40]!r} appears twice in the header")
        else:
            columns.append(column)
    reasons.extend(
        f"the header has no {label} column"
        for column, label in ((SERIAL, "serial number"), (SECRET, "secret key"))
        if column not in columns
    )
    if reasons:
        help_line = ImportProblem(layouts.UNDERSTOOD)
        raise ImportRefused([*(ImportProblem(r, line=line) for r in reasons), help_line])
    return tuple(columns)


def _headerless_layout(width: int, line: int) -> tuple[str, ...]:
    if width == len(VENDOR_LAYOUT):
        return VENDOR_LAYOUT
    if _WIDE_MIN <= width <= len(WIDE_LAYOUT):
        return WIDE_LAYOUT[:width]
    raise ImportRefused(
        [
            ImportProblem(f"the row has {width} columns: {_LAYOUT_HELP}", line=line),
            ImportProblem(layouts.UNDERSTOOD),
        ]
    )


def _record(row: dict[str, str], line: int) -> TokenRecord:
    check = rules.Checker()
    reasons = check.reasons
    serial = check(lambda: rules.check_serial(row.get(SERIAL)), "")
    secret = row.get(SECRET, "")
    if secret:
        seed = check(lambda: parse_seed(secret), b"")
    else:
        reasons.append("the secret key is missing")
        seed = b""
    otp_type = check(lambda: rules.parse_type(row.get(TYPE)), OtpType.TOTP)
    algorithm = check(lambda: rules.parse_algorithm(row.get(ALGORITHM)), None)
    digits = check(lambda: rules.check_digits(_int_or(row.get(DIGITS), "digits", 6)), 6)
    period = 30
    counter = 0
    if otp_type is OtpType.TOTP:
        period = check(
            lambda: rules.check_period(_int_or(row.get(INTERVAL), "time interval", 30)), 30
        )
        if _int_or_none(row.get(COUNTER)):
            reasons.append("a counter is only for HOTP tokens")
    else:
        counter = check(lambda: rules.check_counter(_int_or(row.get(COUNTER), "counter", 0)), 0)
    upn = check(lambda: rules.check_text("upn", row.get(UPN)), None)
    manufacturer = check(lambda: rules.check_text("manufacturer", row.get(MANUFACTURER)), None)
    model = check(lambda: rules.check_text("model", row.get(MODEL)), None)
    if reasons or algorithm is None:
        raise _RowError(reasons)
    params = OtpParams(type=otp_type, algorithm=algorithm, digits=digits, period=period)
    return TokenRecord(
        serial=serial,
        seed=seed,
        params=params,
        counter=counter,
        manufacturer=manufacturer,
        model=model,
        upn=upn,
        line=line,
    )


def _int_or(text: str | None, name: str, default: int) -> int:
    if text is None or not text.strip():
        return default
    return rules.parse_int(name, text)


def _int_or_none(text: str | None) -> int | None:
    """A counter given for a TOTP token: 0 or empty is harmless, anything else is not."""
    if text is None or not text.strip():
        return None
    try:
        return rules.parse_int("counter", text) or None
    except ValueError:
        return 1
