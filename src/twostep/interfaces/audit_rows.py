"""One row format for the audit log, whatever interface exports it (JSON, CSV, table)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from twostep.domain.audit import AuditEvent

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
)


def audit_row(event: AuditEvent) -> dict[str, Any]:
    time = datetime.fromtimestamp(event.at, UTC).isoformat(timespec="milliseconds")
    row = {column: getattr(event, column, None) for column in AUDIT_COLUMNS if column != "time"}
    row["time"] = time.replace("+00:00", "Z")
    return {column: row[column] for column in AUDIT_COLUMNS}


def write_csv(out: TextIO, events: Iterable[AuditEvent]) -> None:
    writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for event in events:
        # Spreadsheet programs run cells that start with = + - @ as formulas.
        writer.writerow({k: _safe_cell(v) for k, v in audit_row(event).items()})


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
