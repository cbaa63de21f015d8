"""One row format for the admin trail, whatever interface exports it (JSON, CSV, table)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from twostep.domain.admin_events import AdminEvent
from twostep.domain.errors import InvalidInput
from twostep.interfaces.audit_rows import safe_cell

ADMIN_EVENT_COLUMNS = (
    "event_id",
    "time",
    "tenant",
    "actor",
    "actor_name",
    "role",
    "source",
    "interface",
    "action",
    "target",
    "result",
    "changes",
    "server_name",
)


def admin_event_row(event: AdminEvent) -> dict[str, Any]:
    """One event as a row; ``changes`` stays an object ({"field": [before, after]})."""
    time = datetime.fromtimestamp(event.at, UTC).isoformat(timespec="milliseconds")
    row = {c: getattr(event, c, None) for c in ADMIN_EVENT_COLUMNS if c != "time"}
    row["time"] = time.replace("+00:00", "Z")
    row["changes"] = dict(event.changes)
    return {column: row[column] for column in ADMIN_EVENT_COLUMNS}


def write_csv(out: TextIO, events: Iterable[AdminEvent]) -> None:
    """The API's columns; ``changes`` as one JSON cell. Every cell is safe to open in a
    spreadsheet (a user named ``=cmd`` stays text)."""
    writer = csv.DictWriter(out, fieldnames=ADMIN_EVENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for event in events:
        row = admin_event_row(event)
        row["changes"] = json.dumps(row["changes"], sort_keys=True, ensure_ascii=False)
        writer.writerow({k: safe_cell(v) for k, v in row.items()})


def parse_time(value: str | None, name: str) -> float | None:
    """An ISO 8601 time with a zone (RFC 3339), e.g. 2026-01-31T09:00:00Z, as epoch seconds."""
    if value is None:
        return None
    try:
        # RFC 3339 also allows a lower-case "t" and "z".
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{name} must be an ISO 8601 time", field=name) from exc
    if parsed.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone (for example Z)", field=name)
    try:
        return parsed.timestamp()
    except OverflowError as exc:  # out of range once in UTC
        raise InvalidInput(f"{name} must be an ISO 8601 time", field=name) from exc
