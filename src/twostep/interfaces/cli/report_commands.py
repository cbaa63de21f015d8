"""``twostep reports usage`` and ``twostep reports deliveries`` (issue 15): the usage
report from the shell, as JSON (or CSV), the API's ``/v1/reports/...`` alike."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING

import click

from twostep.interfaces.cli.common import reports_errors, wired

if TYPE_CHECKING:
    from twostep.services.reports import UsageReport


def register(cli: click.Group) -> None:
    cli.add_command(reports)


def _scope(function: click.decorators.FC) -> click.decorators.FC:
    today = dt.datetime.now(dt.UTC).date()
    for option in reversed(
        [
            click.option("--tenant", help="One tenant (default: every tenant)."),
            click.option("--provider", help="One provider (its id): its linked tenant."),
            click.option(
                "--from",
                "first",
                default=today.replace(day=1).isoformat(),
                show_default="the first of this month, UTC",
                help="First day, YYYY-MM-DD (UTC).",
            ),
            click.option(
                "--to",
                "last",
                default=today.isoformat(),
                show_default="today, UTC",
                help="Last day, YYYY-MM-DD (UTC), inclusive; at most 400 days in all.",
            ),
            click.option("--csv", "as_csv", is_flag=True, help="CSV instead of JSON."),
        ]
    ):
        function = option(function)
    return function


@click.group(
    "reports",
    help="Usage reports: audit events counted from the rollups (`twostep audit` lists the "
    "events themselves: the authentication report), and deliveries by country.",
)
def reports() -> None:
    pass


@reports.command(
    "usage",
    help="Audit events counted by day, method, result, reason, integration or interface "
    "(--group-by), with deliveries by destination country.",
)
@_scope
@click.option(
    "--group-by",
    default="day",
    show_default=True,
    help="Comma-separated: day, integration, interface, method, result, reason.",
)
@reports_errors
def reports_usage(
    tenant: str | None,
    provider: str | None,
    first: str,
    last: str,
    as_csv: bool,
    group_by: str,
) -> None:
    from twostep.interfaces.usage_rows import report_body, write_counts_csv

    report = _report(tenant, provider, first, last, group_by)
    if as_csv:
        write_counts_csv(sys.stdout, report)
    else:
        click.echo(json.dumps(report_body(report), indent=2, ensure_ascii=False))


@reports.command(
    "deliveries",
    help="Texts, calls and emails by destination country and kind: sent, failed, and SMS "
    "segments (what carriers charge for).",
)
@_scope
@reports_errors
def reports_deliveries(
    tenant: str | None, provider: str | None, first: str, last: str, as_csv: bool
) -> None:
    from twostep.interfaces.usage_rows import delivery_row, write_deliveries_csv

    report = _report(tenant, provider, first, last, "")
    if as_csv:
        write_deliveries_csv(sys.stdout, report)
    else:
        rows = [delivery_row(d) for d in report.deliveries]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))


def _report(
    tenant: str | None, provider: str | None, first: str, last: str, group_by: str
) -> UsageReport:
    from twostep.services.admin import OPERATOR
    from twostep.services.reports import parse_day, parse_group_by

    return wired().reports.usage(
        OPERATOR,
        tenant=tenant,
        provider=provider,
        first=parse_day(first, "from"),
        last=parse_day(last, "to"),
        group_by=parse_group_by(group_by),
    )
