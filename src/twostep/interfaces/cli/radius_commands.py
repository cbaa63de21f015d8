"""RADIUS clients, and users' local passwords, from the shell."""

from __future__ import annotations

import sys

import click

from twostep.interfaces.cli import admin_commands
from twostep.interfaces.cli.choices import RADIUS_MODES
from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired


def register(cli: click.Group) -> None:
    cli.add_command(radius_clients)
    admin_commands.users.add_command(users_set_password)


@click.group("radius-clients", help="RADIUS clients: the VPNs and gateways that ask over RADIUS.")
def radius_clients() -> None:
    pass


@radius_clients.command(
    "add", help="Add the RADIUS client NAME; prints a generated shared secret once."
)
@click.argument("name")
@click.option("--network", required=True, help="The NAS's address or CIDR (IPv4 or IPv6).")
@click.option(
    "--mode",
    type=click.Choice(RADIUS_MODES),
    default="second_factor",
    show_default=True,
    help="second_factor: User-Password is the code (the NAS checked the password); "
    "password_and_code: the user's password and the code; challenge: an Access-Challenge "
    "asks for the code (docs/radius.md).",
)
@click.option(
    "--secret-file",
    type=click.File("r"),
    help="Read the shared secret from this file ('-': stdin) instead of generating one.",
)
@click.option(
    "--require-message-authenticator/--no-require-message-authenticator",
    default=True,
    show_default=True,
    help="Drop Access-Requests without a valid Message-Authenticator (BlastRADIUS).",
)
@click.option(
    "--limit-proxy-state/--no-limit-proxy-state",
    default=False,
    show_default=True,
    help="Without Message-Authenticator required: drop requests with Proxy-State but none.",
)
@click.option(
    "--push-wait",
    type=click.IntRange(0, 120),
    default=25,
    show_default=True,
    help="Seconds to wait for a push approval before answering.",
)
@tenant_option
@admin_change("radius_client.create")
def radius_clients_add(
    name: str,
    network: str,
    mode: str,
    secret_file: click.utils.LazyFile | None,
    require_message_authenticator: bool,
    limit_proxy_state: bool,
    push_wait: int,
    tenant: str,
) -> None:
    from twostep.services.admin import OPERATOR
    from twostep.services.radius_clients import NewRadiusClient

    secret = secret_file.read().strip("\r\n") if secret_file is not None else None
    created = wired().radius_clients.create(
        OPERATOR,
        tenant,
        NewRadiusClient(
            name=name,
            network=network,
            mode=mode,
            secret=secret,
            require_message_authenticator=require_message_authenticator,
            limit_proxy_state=limit_proxy_state,
            push_wait_seconds=push_wait,
        ),
    )
    for warning in created.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"RADIUS client {name} ({created.client.network}, {mode}) added to tenant {tenant}")
    if created.secret is not None:
        click.echo("Its shared secret, shown only now:")
        click.echo(created.secret)


@radius_clients.command("list", help="List the tenant's RADIUS clients.")
@tenant_option
@reports_errors
def radius_clients_list(tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    rows = [
        {
            "name": c.name,
            "network": c.network,
            "mode": c.mode.value,
            "message_authenticator": "required" if c.require_message_authenticator else "optional",
            "push_wait": c.push_wait_seconds,
        }
        for c in wired().radius_clients.list(OPERATOR, tenant)
    ]
    click.echo(table(rows, ["name", "network", "mode", "message_authenticator", "push_wait"]))


@radius_clients.command("delete", help="Delete the RADIUS client NAME.")
@click.argument("name")
@tenant_option
@admin_change("radius_client.delete")
def radius_clients_delete(name: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().radius_clients.delete(OPERATOR, tenant, name)
    click.echo(f"RADIUS client {name} deleted")


@click.command("set-password", help="Set the local password of USER (RADIUS password+code mode).")
@click.argument("user")
@click.option(
    "--password-file",
    type=click.File("r"),
    help="Read the password from this file ('-': stdin); else it is asked for.",
)
@click.option("--clear", is_flag=True, help="Remove the user's password.")
@tenant_option
@admin_change("password.set", clear="password.clear")
def users_set_password(
    user: str, password_file: click.utils.LazyFile | None, clear: bool, tenant: str
) -> None:
    from twostep.services.admin import OPERATOR

    app = wired()
    if clear:
        app.passwords.clear_password(OPERATOR, tenant, user)
        click.echo(f"password of {user} removed")
        return
    if password_file is not None:
        password = password_file.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise click.UsageError("give --password-file (or run in a terminal to be asked)")
    app.passwords.set_password(OPERATOR, tenant, user, password)
    click.echo(f"password of {user} set")
