"""``twostep admin-events``: read the admin trail (who changed what, when, from where)."""

from __future__ import annotations

from typing import Any

import click

from twostep.interfaces.cli.common import reports_errors, table, wired


def register(cli: click.Group) -> None:
    cli.add_command(admin_events)


@click.group("admin-events", help="The admin trail: every change an admin made, and refusals.")
def admin_events() -> None:
    pass


@admin_events.command(
    "list", help="List admin events: the newest --limit that match, oldest of them first."
)
@click.option(
    "--tenant", help="Only this tenant's events [default: every tenant's, and the global ones]."
)
@click.option("--action", help='An action (user.update), or a prefix ending in "." (user.).')
@click.option("--actor", help='Only changes by this admin key id ("operator": the CLI).')
@click.option("--target", help="Only changes to this target (alice, alice/METHOD_ID, a name).")
@click.option("--since", help="From this time on: ISO 8601 with a zone, e.g. 2026-01-31T09:00Z.")
@click.option("--until", help="Before this time: ISO 8601 with a zone.")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="At most this many events.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table to read; json: one event per line (JSON Lines); csv: the API's columns.",
)
@reports_errors
def admin_events_list(
    tenant: str | None,
    action: str | None,
    actor: str | None,
    target: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    fmt: str,
) -> None:
    import json
    import sys

    from twostep.interfaces.admin_event_rows import admin_event_row, parse_time, write_csv
    from twostep.services.admin import OPERATOR

    newest = wired().admin_events.query(
        OPERATOR,
        tenant,
        action=action,
        actor_key=actor,
        target=target,
        since=parse_time(since, "since"),
        until=parse_time(until, "until"),
        limit=limit,
        newest_first=True,
    )
    events = list(reversed(newest))
    if fmt == "csv":
        write_csv(sys.stdout, events)
        return
    rows = [admin_event_row(e) for e in events]
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, sort_keys=True, ensure_ascii=False))
        return
    for row in rows:
        row["time"] = row["time"].replace("T", " ")[:19]
        row["actor"] = row["actor_name"] or row["actor"]
        row["changes"] = _summary(row["changes"])
    columns = ["time", "tenant", "actor", "source", "action", "target", "result", "changes"]
    click.echo(table(rows, columns))


def _summary(changes: dict[str, Any], width: int = 60) -> str:
    """``mfa: enabled -> enforced; phone: - -> +14155550123`` cut to ``width``."""
    text = "; ".join(
        f"{name}: {'-' if was is None else was} -> {'-' if now is None else now}"
        for name, (was, now) in changes.items()
    )
    return text if len(text) <= width else text[: width - 1] + "\u2026"
