"""``twostep migrate``: move users, phones and tokens in from another MFA server."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from twostep.interfaces.cli.common import admin_change, tenant_option, wired

if TYPE_CHECKING:
    from twostep.adapters.importers.mfa_server import DocumentFormat
    from twostep.services.migration import MigrationReport


def register(cli: click.Group) -> None:
    cli.add_command(migrate)


@click.group(help="Move users, their phones and tokens in from another MFA server.")
def migrate() -> None:
    pass


@migrate.command(
    "mfa-server",
    help="Migrate the users of an Azure MFA Server export FILE (JSON or CSV, as "
    "contrib/mfa-server-export.ps1 writes it): all of them or none. A user already here is "
    "merged (empty fields filled, missing methods added); running it again changes nothing.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("json", "csv")),
    help="The document's format, when its content should not decide.",
)
@click.option("--dry-run", is_flag=True, help="Report what would be done; change nothing.")
@click.option(
    "--reregistration/--no-reregistration",
    default=True,
    show_default=True,
    help="Mark created users who used PIN mode or the mobile app to register again "
    "(those parts cannot move).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@tenant_option
@admin_change("migration.mfa_server")
def migrate_mfa_server(
    file: Path,
    fmt: str | None,
    dry_run: bool,
    reregistration: bool,
    as_json: bool,
    tenant: str,
) -> None:
    from twostep.interfaces.mfa_server import migrate_document
    from twostep.services.admin import OPERATOR

    report = migrate_document(
        wired(),
        OPERATOR,
        tenant,
        file.read_bytes(),
        fmt=cast("DocumentFormat | None", fmt),
        dry_run=dry_run,
        reregister=reregistration,
    )
    if as_json:
        click.echo(json.dumps(asdict(report), indent=2, ensure_ascii=False))
        return
    _summary(report)


def _summary(report: MigrationReport) -> None:
    verb = "would migrate" if report.dry_run else "migrated"
    lines = [
        f"{verb} {report.users} user(s) into tenant {report.tenant}: "
        f"{report.created} created, {report.merged} merged, {report.unchanged} unchanged, "
        f"{report.skipped} skipped; {report.methods_added} method(s) added; "
        f"{report.reregister} to register again"
    ]
    for entry in report.entries:
        if entry.action == "unchanged" and not entry.notes:
            continue
        lines.append(f"{entry.place} {entry.user}: {entry.action}")
        if entry.reason:
            lines.append(f"  why: {entry.reason}")
        lines.extend(f"  {name}: {old!r} -> {new!r}" for name, (old, new) in entry.changes.items())
        lines.extend(f"  + {method}" for method in entry.methods)
        if entry.default:
            lines.append(f"  default: {entry.default}")
        if entry.reregister:
            lines.append(f"  registers again: {', '.join(entry.reregister)}")
        lines.extend(f"  note: {note}" for note in entry.notes)
    # One write: 50,000 users are some 400,000 lines, and a write per line costs seconds.
    click.echo("\n".join(lines))
