"""The usage report as JSON-ready data and as CSV (the API and the CLI answer the same)."""

from __future__ import annotations

import csv
from typing import Any, TextIO

from twostep.domain.usage import CountryDeliveries, UsageCount
from twostep.interfaces.audit_rows import safe_cell
from twostep.services.reports import UsageReport
from twostep.services.usage import day_date

DELIVERY_COLUMNS = ["country", "kind", "sent", "failed", "segments"]


def count_row(count: UsageCount, group_by: tuple[str, ...]) -> dict[str, Any]:
    """The grouped dimensions (a null as None), and the count; a day as YYYY-MM-DD."""
    row: dict[str, Any] = {}
    for dimension in group_by:
        value = getattr(count, dimension)
        row[dimension] = day_date(value).isoformat() if dimension == "day" else value
    row["events"] = count.events
    return row


def delivery_row(found: CountryDeliveries) -> dict[str, Any]:
    return {column: getattr(found, column) for column in DELIVERY_COLUMNS}


def report_body(report: UsageReport) -> dict[str, Any]:
    return {
        "tenant": report.tenant,
        "provider": report.provider.id if report.provider else None,
        "from": report.first.isoformat(),
        "to": report.last.isoformat(),
        "group_by": list(report.group_by),
        "events": report.events,
        "counts": [count_row(c, report.group_by) for c in report.counts],
        "deliveries": [delivery_row(d) for d in report.deliveries],
    }


def write_counts_csv(out: TextIO, report: UsageReport) -> None:
    """One row per group: the grouped dimensions (a null as an empty cell), then events."""
    writer = csv.DictWriter(out, fieldnames=[*report.group_by, "events"], lineterminator="\n")
    writer.writeheader()
    for count in report.counts:
        row = count_row(count, report.group_by)
        writer.writerow({k: safe_cell("" if v is None else v) for k, v in row.items()})


def write_deliveries_csv(out: TextIO, report: UsageReport) -> None:
    writer = csv.DictWriter(out, fieldnames=DELIVERY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for found in report.deliveries:
        writer.writerow(delivery_row(found))
