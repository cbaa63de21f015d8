"""``twostep tokens``: import, list, assign and export hardware OATH tokens."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from twostep.domain.errors import InvalidInput
from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired
from twostep.interfaces.cli.validity import validity

if TYPE_CHECKING:
    from twostep.adapters.importers import Format
    from twostep.bootstrap import App
    from twostep.domain.entities import Method


# The importers' layouts (twostep.adapters.importers.FORMATS), spelled out so that `twostep
# --help` does not load the importers; a test keeps the two equal.
FORMATS = ("pskc", "csv", "oathcsv", "yubico")


def register(cli: click.Group) -> None:
    cli.add_command(tokens)


@click.group(help="Hardware OATH tokens: the tenant's pool, imports and exports.")
def tokens() -> None:
    pass


def _password(path: Path | None) -> str | None:
    # From a file, never the command line: arguments show in `ps` and shell history.
    return None if path is None else path.read_text().rstrip("\r\n")


@tokens.command(
    "import",
    help="Import a token file FILE: every token in it, or none. PSKC (RFC 6030), CSV, "
    "oathcsv and the YubiKey Personalization Tool's log are read; the layout is decided "
    "from the content.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="The file's layout, when its content should not decide.",
)
@click.option("--key", "key_hex", help="PSKC pre-shared key, hex.")
@click.option(
    "--password-file",
    type=click.Path(exists=True, path_type=Path),
    help="A file holding the PSKC file's password (never on the command line).",
)
@click.option("--update", is_flag=True, help="Replace seeds of tokens still in the pool.")
@click.option(
    "--refuse-expiring",
    is_flag=True,
    help="Refuse the file if a token is expired or expires within 30 days.",
)
@click.option(
    "--plaintext-mac",
    is_flag=True,
    help="Accept a PSKC file whose MACs are over the plaintext (drafts before RFC 6030), "
    "if they verify.",
)
@click.option(
    "--no-mac", is_flag=True, help="Accept a PSKC file whose encrypted values have no MAC."
)
@tenant_option
@admin_change("token.import")
def tokens_import(
    file: Path,
    fmt: str | None,
    key_hex: str | None,
    password_file: Path | None,
    update: bool,
    refuse_expiring: bool,
    plaintext_mac: bool,
    no_mac: bool,
    tenant: str,
) -> None:
    from twostep.interfaces.token_files import ImportOptions, import_file
    from twostep.services.admin import OPERATOR

    options = ImportOptions(
        fmt=cast("Format | None", fmt),
        key_hex=key_hex,
        password=_password(password_file),
        update=update,
        refuse_expiring=refuse_expiring,
        plaintext_mac=plaintext_mac,
        no_mac=no_mac,
    )
    summary = import_file(wired(), OPERATOR, tenant, file.read_bytes(), options)
    click.echo(
        f"imported {summary.imported}, replaced {summary.replaced}, "
        f"assigned {summary.assigned} token(s) into tenant {tenant} "
        f"(read as {summary.layout})"
    )
    for kind, count in sorted(summary.by_type.items()):
        click.echo(f"  {kind}: {count}")
    for maker, count in sorted(summary.by_manufacturer.items()):
        click.echo(f"  {maker}: {count}")
    if summary.skipped:
        click.echo(f"skipped {len(summary.skipped)} key(s) Twostep does not use:")
        for line in summary.skipped:
            click.echo(f"  {line}")
    for line in summary.warnings:
        click.echo(f"warning: {line}", err=True)


@tokens.command("list", help="List the tenant's tokens by serial: the first --limit, or --all.")
@click.option("--assigned/--unassigned", default=None, help="Only assigned, or only pooled.")
@click.option("--manufacturer", help="Only this manufacturer's.")
@click.option("--serial-prefix", help="Only serials that begin with this.")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="At most this many tokens; with --all, how many to read at a time.",
)
@click.option("--all", "every", is_flag=True, help="Every token, however many, page by page.")
@tenant_option
@reports_errors
def tokens_list(
    assigned: bool | None,
    manufacturer: str | None,
    serial_prefix: str | None,
    limit: int,
    every: bool,
    tenant: str,
) -> None:
    app = wired()

    def page(after: str | None, size: int) -> list[Method]:
        return _page(app, tenant, assigned, manufacturer, serial_prefix, after, size)

    found = page(None, limit)
    if every:
        while len(found) % limit == 0 and found:
            more = page(found[-1].serial, limit)
            if not more:
                break
            found += more
    elif len(found) == limit and page(found[-1].serial, 1):
        click.echo(f"(the first {limit} tokens: --all lists every one)", err=True)
    now = time.time()
    rows = [
        {
            "serial": t.serial,
            "type": t.otp.type.value if t.otp else "",
            "manufacturer": t.manufacturer,
            "model": t.model,
            "status": t.status.value,
            "valid": validity(t.valid_from, t.valid_until, now),
        }
        for t in found
    ]
    click.echo(table(rows, ["serial", "type", "manufacturer", "model", "status", "valid"]))


def _page(
    app: App,
    tenant: str,
    assigned: bool | None,
    manufacturer: str | None,
    serial_prefix: str | None,
    after: str | None,
    limit: int,
) -> list[Method]:
    """One page of tokens after the serial ``after`` (each page its own transaction)."""
    from twostep.services.admin import OPERATOR

    return list(
        app.tokens.list(
            OPERATOR,
            tenant,
            assigned=assigned,
            manufacturer=manufacturer,
            serial_prefix=serial_prefix,
            after=after,
            limit=limit,
        )
    )


@tokens.command("assign", help="Assign the pooled token SERIAL to the user USER.")
@click.argument("serial")
@click.argument("user")
@tenant_option
@admin_change("token.assign")
def tokens_assign(serial: str, user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().tokens.assign(OPERATOR, tenant, serial, user)
    click.echo(f"token {serial} assigned to {user}")


@tokens.command("unassign", help="Take the token SERIAL from its user, back into the pool.")
@click.argument("serial")
@tenant_option
@admin_change("token.unassign")
def tokens_unassign(serial: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().tokens.unassign(OPERATOR, tenant, serial)
    click.echo(f"token {serial} is back in the pool")


@tokens.command("lost", help="Mark the token SERIAL lost: it verifies nothing from now on.")
@click.argument("serial")
@tenant_option
@admin_change("token.lost")
def tokens_lost(serial: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().tokens.mark_lost(OPERATOR, tenant, serial)
    click.echo(f"token {serial} marked lost")


@tokens.command("delete", help="Delete the token SERIAL.")
@click.argument("serial")
@tenant_option
@admin_change("token.delete")
def tokens_delete(serial: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().tokens.delete(OPERATOR, tenant, serial)
    click.echo(f"token {serial} deleted")


@tokens.command(
    "resync",
    help="Resynchronise the drifted token SERIAL from two consecutive codes, FIRST_CODE then "
    "SECOND_CODE.",
)
@click.argument("serial")
@click.argument("first_code")
@click.argument("second_code")
@tenant_option
@admin_change("token.resync")
def tokens_resync(serial: str, first_code: str, second_code: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().tokens.resync(OPERATOR, tenant, serial, first_code, second_code)
    click.echo(f"token {serial} resynchronised")


@tokens.command(
    "export", help="Write every token to a password-encrypted PSKC file (FILE, or stdout)."
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pskc"]),
    default="pskc",
    show_default=True,
    help="The file's format.",
)
@click.option(
    "--password-file",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="A file holding the password to encrypt with (12 characters or more).",
)
@tenant_option
@admin_change("token.export")
def tokens_export(file: Path | None, fmt: str, password_file: Path, tenant: str) -> None:
    from twostep.adapters.importers import write_pskc
    from twostep.services.admin import OPERATOR

    password = _password(password_file)
    if not password or len(password) < 12:
        raise InvalidInput("the export password must be at least 12 characters", field="password")
    records = wired().tokens.export(OPERATOR, tenant)
    data = write_pskc(records, password)
    if file is None:
        click.get_binary_stream("stdout").write(data)
        click.echo(f"exported {len(records)} token(s)", err=True)
        return
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    click.echo(f"exported {len(records)} token(s) to {file} (PBKDF2 + AES-256-CBC + HMAC-SHA256)")
