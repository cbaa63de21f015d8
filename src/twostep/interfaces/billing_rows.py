"""A statement as JSON-ready data and as CSV (the API and the CLI answer the same)."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any, TextIO

from twostep.domain.billing import Statement
from twostep.interfaces.audit_rows import safe_cell

CSV_COLUMNS = ["provider", "month", "billing_model", "tenant", "method", "user", "units"]


def _iso(at: float) -> str:
    return (
        dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def statement_body(statement: Statement) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider": statement.provider,
        "provider_name": statement.provider_name,
        "billing_model": statement.billing_model.value,
        "month": statement.month,
        "time_zone": statement.time_zone,
        "start": _iso(statement.start),
        "end": _iso(statement.end),
        "closed": statement.closed,
        "units": statement.units,
        "tenants": [
            {"tenant": t.tenant, "units": t.units, "by_method": dict(t.by_method)}
            for t in statement.tenants
        ],
    }
    if statement.billing_model.value == "per_user":
        body["users"] = [{"tenant": u.tenant, "user": u.user} for u in statement.users]
    return body


def write_csv(out: TextIO, statement: Statement) -> None:
    """One row per billed unit group: per tenant and method (per-authentication), per user
    (per-user, one unit each), and a total row with no tenant."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    base = {
        "provider": statement.provider,
        "month": statement.month,
        "billing_model": statement.billing_model.value,
    }
    rows: list[dict[str, Any]] = []
    if statement.billing_model.value == "per_user":
        rows += [{**base, "tenant": u.tenant, "user": u.user, "units": 1} for u in statement.users]
    else:
        for tenant in statement.tenants:
            rows += [
                {**base, "tenant": tenant.tenant, "method": method, "units": units}
                for method, units in tenant.by_method.items()
            ]
    rows.append({**base, "units": statement.units})
    for row in rows:
        # Spreadsheet programs run cells that start with = + - @ as formulas.
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
