"""One row format for the audit log, whatever interface exports it (JSON, CSV, table)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from phonenumbers import NumberParseException

from twostep.domain.audit import AuditEvent
from twostep.domain.errors import InvalidInput
from twostep.domain.phone import mask_phone

AUDIT_COLUMNS = (
    "event_id",
    "time",
    "tenant",
    "user",
    "first_name",
    "last_name",
    "email",
    "phone",
    "device",
    "method",
    "result",
    "reason",
    "integration",
    "interface",
    "server_name",
    "server_ip",
    "client_ip",
    "detail",
    "request_id",
)


def audit_row(event: AuditEvent, *, full_phone: bool = False) -> dict[str, Any]:
    """One event as a row; phone numbers masked (``+1 ••• 4567``) unless ``full_phone``."""
    time = datetime.fromtimestamp(event.at, UTC).isoformat(timespec="milliseconds")
    row = {column: getattr(event, column, None) for column in AUDIT_COLUMNS if column != "time"}
    row["time"] = time.replace("+00:00", "Z")
    if row["phone"] and not full_phone:
        row["phone"] = _masked(row["phone"])
    return {column: row[column] for column in AUDIT_COLUMNS}


def write_csv(out: TextIO, events: Iterable[AuditEvent], *, full_phone: bool = False) -> None:
    writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for event in events:
        # Spreadsheet programs run cells that start with = + - @ as formulas.
        row = audit_row(event, full_phone=full_phone)
        writer.writerow({k: safe_cell(v) for k, v in row.items()})


def _masked(phone: str) -> str:
    try:
        return mask_phone(phone)
    except NumberParseException:  # stored before numbers were checked: mask by hand
        return "\u2022\u2022\u2022 " + phone[-4:]


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ (or tab, CR) is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def parse_time(value: str | None, name: str) -> float | None:
    """An audit query's time bound: ISO 8601 (RFC 3339) with a zone, as epoch seconds."""
    if value is None:
        return None
    try:
        # RFC 3339 also allows a lower-case "t" and "z".
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone (for example Z)", field=name)
        return parsed.timestamp()
    except (ValueError, OverflowError) as exc:  # OverflowError: out of range once in UTC
        raise InvalidInput(f"{name} must be an ISO 8601 time", field=name) from exc
