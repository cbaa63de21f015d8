"""``twostep directories``: a tenant's LDAP and Active Directory servers, their connection
test, and their sync (with a running count of what it does)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired
from twostep.interfaces.cli.directory_output import (
    Counter,
    described,
    expected_entries,
    report_json,
    summary,
)

# Plain words, so --help imports no model (tests check them against domain.directory).
KINDS = ("active_directory", "ldap")
SECURITIES = ("ldaps", "starttls", "plain")
PHONE_KINDS = ("sms", "sms_reply", "voice")
# domain.directory.AttributeMap's fields (user_id apart)
ATTRIBUTES = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "home_phone",
    "pager",
    "fax",
    "ip_phone",
    "extension",
    "groups",
    "external_id",
)


def register(cli: click.Group) -> None:
    cli.add_command(directories)
    # `twostep directory sync` as well: the singular reads naturally for one directory's
    # commands; hidden so --help lists the group once.
    cli.add_command(
        click.Group("directory", commands=directories.commands, hidden=True, help=directories.help)
    )


@click.group(help="Directories (LDAP, Active Directory) that users are taken from.")
def directories() -> None:
    pass


def _settings_options(func: Any) -> Any:
    """The options ``add`` and ``set`` share: every setting but the password."""
    options = [
        click.option(
            "--url",
            "urls",
            multiple=True,
            help="A server: ldap://host[:port] or ldaps://host[:port]; repeat it for failover, "
            "in order.",
        ),
        click.option("--bind-dn", help="The DN of the account that reads the users."),
        click.option("--base-dn", help="Where the users are searched, with its subtree."),
        click.option(
            "--kind",
            type=click.Choice(KINDS),
            help="active_directory (objectGUID, uSNChanged) or ldap (entryUUID, "
            "modifyTimestamp) [active_directory].",
        ),
        click.option(
            "--security",
            type=click.Choice(SECURITIES),
            help="starttls (port 389, upgraded before the bind), ldaps (port 636), or plain "
            "(only to a server on loopback) [starttls].",
        ),
        click.option(
            "--ca-file",
            type=click.Path(exists=True, dir_okay=False, resolve_path=True),
            help="PEM file of the CA that signed the servers' certificates [the system's].",
        ),
        click.option(
            "--filter",
            "user_filter",
            help="LDAP filter of the users to take [the kind's: people for Active Directory, "
            "inetOrgPerson otherwise].",
        ),
        click.option(
            "--mfa-group", help="DN of the group whose members are taken [everyone in the filter]."
        ),
        click.option(
            "--sync-interval",
            type=click.IntRange(0, 7 * 24 * 3600),
            help="Seconds between scheduled syncs; 0: on demand only [3600].",
        ),
        click.option(
            "--phone-methods",
            help="Method kinds made from the directory's mobile (else telephone) number, "
            "comma-separated: sms, sms_reply, voice; '' for none [none].",
        ),
        click.option(
            "--attribute",
            "attributes",
            multiple=True,
            metavar="FIELD=ATTRIBUTE",
            help="Read FIELD from another LDAP attribute, e.g. mobile=otherMobile; FIELD is "
            f"one of {', '.join(ATTRIBUTES)}, or user_id=a,b (the first one set names the "
            "user).",
        ),
        click.option(
            "--password-bind/--no-password-bind",
            default=None,
            help="Check users' primary passwords by a bind as them [on].",
        ),
        click.option(
            "--position",
            type=click.IntRange(0, 1000),
            help="Which directory a user is looked up in first, lowest first [last].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _values(given: dict[str, Any]) -> dict[str, Any]:
    """The settings the options gave (unset options are left out)."""
    values: dict[str, Any] = {}
    for key in ("bind_dn", "base_dn", "kind", "security", "ca_file", "user_filter", "mfa_group"):
        if given.get(key) is not None:
            values[key] = given[key]
    if given.get("urls"):
        values["urls"] = list(given["urls"])
    if given.get("sync_interval") is not None:
        values["sync_interval"] = given["sync_interval"]
    if given.get("password_bind") is not None:
        values["password_bind"] = given["password_bind"]
    if given.get("phone_methods") is not None:
        kinds = [k.strip() for k in given["phone_methods"].split(",") if k.strip()]
        unknown = [k for k in kinds if k not in PHONE_KINDS]
        if unknown:
            raise click.BadParameter(
                f"not a phone kind: {', '.join(unknown)}", param_hint="--phone-methods"
            )
        values["phone_methods"] = kinds
    if given.get("attributes"):
        mapping: dict[str, Any] = {}
        for pair in given["attributes"]:
            field, sep, attribute = pair.partition("=")
            if not sep or field not in (*ATTRIBUTES, "user_id"):
                raise click.BadParameter(
                    f"expected FIELD=ATTRIBUTE, got {pair!r}", param_hint="--attribute"
                )
            mapping[field] = attribute.split(",") if field == "user_id" else attribute
        values["attributes"] = mapping
    return values


def _password_file(path: Path) -> str:
    """The file's first line: a password is never an argument (it would sit in the shell's
    history and in every process listing)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0]:
        raise click.BadParameter(
            "the file's first line is empty", param_hint="--bind-password-file"
        )
    return lines[0]


@directories.command("add", help="Add the directory NAME (--url, --bind-dn and --base-dn).")
@click.argument("name")
@_settings_options
@click.option(
    "--bind-password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file whose first line is the reading account's password [asked for].",
)
@click.option(
    "--no-bind-password", is_flag=True, help="The reading account binds without a password."
)
@tenant_option
@admin_change("directory.add")
def directories_add(
    name: str,
    bind_password_file: Path | None,
    no_bind_password: bool,
    tenant: str,
    position: int | None,
    **options: Any,
) -> None:
    values = _values(options)
    for required in ("urls", "bind_dn", "base_dn"):
        if required not in values:
            flag = "--url" if required == "urls" else "--" + required.replace("_", "-")
            raise click.UsageError(f"missing option {flag}")
    if bind_password_file is not None:
        values["bind_password"] = _password_file(bind_password_file)
    elif not no_bind_password:
        values["bind_password"] = click.prompt(
            "Password of the reading account", hide_input=True, confirmation_prompt=True
        )
    from twostep.services.admin import OPERATOR

    view = wired().directories.add(OPERATOR, tenant, name, values, position)
    click.echo(f"directory {view.directory.name} added at position {view.directory.position}")
    click.echo(f"  try it: twostep directories test {view.directory.name}")


@directories.command("list", help="List the tenant's directories, and their last sync.")
@tenant_option
@reports_errors
def directories_list(tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    rows = [
        {
            "position": v.directory.position,
            "name": v.directory.name,
            "kind": v.directory.settings.kind.value,
            "servers": ",".join(v.directory.settings.urls),
            "interval": v.directory.settings.sync_interval,
            "sync": v.sync_state or "never",
            "users": v.sync.counts.seen if v.sync else None,
        }
        for v in wired().directories.list(OPERATOR, tenant)
    ]
    click.echo(table(rows, ["position", "name", "kind", "servers", "interval", "sync", "users"]))


@directories.command("show", help="Show the directory NAME: its settings and its last sync.")
@click.argument("name")
@tenant_option
@reports_errors
def directories_show(name: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    view = wired().directories.get(OPERATOR, tenant, name)
    click.echo(described(view))


@directories.command(
    "set", help="Change settings of the directory NAME: only the options given change."
)
@click.argument("name")
@_settings_options
@click.option(
    "--bind-password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file whose first line is the reading account's new password.",
)
@click.option(
    "--new-bind-password", is_flag=True, help="Ask for the reading account's new password."
)
@click.option("--no-bind-password", is_flag=True, help="Remove the reading account's password.")
@tenant_option
@admin_change("directory.update")
def directories_set(
    name: str,
    bind_password_file: Path | None,
    new_bind_password: bool,
    no_bind_password: bool,
    tenant: str,
    position: int | None,
    **options: Any,
) -> None:
    values = _values(options)
    if sum((bind_password_file is not None, new_bind_password, no_bind_password)) > 1:
        raise click.UsageError(
            "give one of --bind-password-file, --new-bind-password, --no-bind-password"
        )
    if bind_password_file is not None:
        values["bind_password"] = _password_file(bind_password_file)
    elif new_bind_password:
        values["bind_password"] = click.prompt(
            "New password of the reading account", hide_input=True, confirmation_prompt=True
        )
    elif no_bind_password:
        values["bind_password"] = None
    if not values and position is None:
        raise click.UsageError("nothing to change: give an option (see --help)")
    from twostep.services.admin import OPERATOR

    view = wired().directories.update(OPERATOR, tenant, name, values, position)
    click.echo(f"directory {view.directory.name} changed")


@directories.command("delete", help="Delete the directory NAME; its users stay, unlinked.")
@click.argument("name")
@tenant_option
@admin_change("directory.delete")
def directories_delete(name: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().directories.delete(OPERATOR, tenant, name)
    click.echo(f"directory {name} deleted (its users stay, as users made by hand)")


@directories.command(
    "test", help="Bind to the directory NAME as its reading account and count the users in scope."
)
@click.argument("name")
@tenant_option
@admin_change("directory.test")
def directories_test(name: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    result = wired().directories.test(OPERATOR, tenant, name)
    click.echo(f"{result.users_in_scope} users in scope ({result.seconds:.2f} s)")


@directories.command(
    "sync",
    help="Sync the directory NAME now: users created, changed, disabled and enabled as the "
    "directory has them (on a terminal a running count, with a bar for a full sync).",
)
@click.argument("name")
@click.option(
    "--full", is_flag=True, help="Read every entry, not only those changed since the last sync."
)
@click.option("--dry-run", is_flag=True, help="Change nothing; list what would change.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@tenant_option
@admin_change("directory.sync")
def directories_sync(name: str, full: bool, dry_run: bool, as_json: bool, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    terminal = sys.stderr.isatty() and not as_json
    expected = None
    if terminal:
        view = wired().directories.get(OPERATOR, tenant, name)
        expected = expected_entries(view, full, time.time())
    counter = Counter(enabled=terminal, expected=expected)
    try:
        report = wired().directory_sync.sync(
            OPERATOR, tenant, name, full=full, dry_run=dry_run, progress=counter.show
        )
    finally:
        counter.done()
    click.echo(json.dumps(report_json(report), indent=2) if as_json else summary(report))
