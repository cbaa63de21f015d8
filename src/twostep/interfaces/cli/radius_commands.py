"""RADIUS clients, and users' local passwords, from the shell."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from twostep.interfaces.cli import admin_commands
from twostep.interfaces.cli.choices import RADIUS_MODES, RADIUS_PRIMARIES
from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired

_F = TypeVar("_F", bound=Callable[..., Any])


def register(cli: click.Group) -> None:
    cli.add_command(radius_clients)
    admin_commands.users.add_command(users_set_password)


def _options(mode_default: str | None) -> Callable[[_F], _F]:
    """The options ``add`` and ``set`` share (``set``: no defaults, left out is kept)."""
    kept = mode_default is None

    def decorate(command: _F) -> _F:
        for option in reversed(
            [
                click.option(
                    "--require-user-match/--no-require-user-match",
                    default=None if kept else True,
                    show_default=not kept,
                    help="Off: a user Twostep does not know, or who has no method, is accepted "
                    "after the client's own primary (--primary ldap or radius) alone.",
                ),
                click.option(
                    "--oath-fallback/--no-oath-fallback",
                    default=None if kept else False,
                    show_default=not kept,
                    help="When the default method fails (push denied or unanswered, call not "
                    "answered, delivery failed), ask for an OATH code in an Access-Challenge.",
                ),
                click.option(
                    "--primary",
                    type=click.Choice(RADIUS_PRIMARIES),
                    default=None if kept else "none",
                    show_default=not kept,
                    help="Who checks the password in User-Password: none (as the mode says), "
                    "ldap (a bind to the user's directory), radius (the --upstream servers).",
                ),
                click.option(
                    "--upstream",
                    "upstreams",
                    multiple=True,
                    metavar="ADDRESS[:PORT[:TIMEOUT]]",
                    help="An upstream RADIUS server for --primary radius, in order (repeat); "
                    "port 1812 and 5 s unless given. Their secrets: --upstream-secrets-file.",
                ),
                click.option(
                    "--upstream-secrets-file",
                    type=click.File("r"),
                    help="The upstream servers' shared secrets, one a line in their order "
                    "('-': stdin). Sealed, never shown again.",
                ),
            ]
        ):
            command = option(command)
        return command

    return decorate


def _upstreams(given: tuple[str, ...], secrets_file: click.utils.LazyFile | None) -> Any:
    """``NewUpstream``s from ADDRESS[:PORT[:TIMEOUT]] and the secrets file (None: none given)."""
    from twostep.services.radius_options import NewUpstream, parse_address

    if not given:
        if secrets_file is not None:
            raise click.UsageError("--upstream-secrets-file needs --upstream")
        return None
    if secrets_file is None:
        raise click.UsageError("give the upstream servers' secrets with --upstream-secrets-file")
    lines = [line.rstrip("\r\n") for line in secrets_file.read().splitlines()]
    secrets = [line for line in lines if line]
    if len(secrets) != len(given):
        raise click.UsageError(f"{len(given)} upstream server(s) but {len(secrets)} secret(s)")
    found = []
    for text, secret in zip(given, secrets, strict=True):
        address, port, timeout = parse_address(text)
        found.append(NewUpstream(address, secret, port, timeout))
    return tuple(found)


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
@_options("second_factor")
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
    require_user_match: bool,
    oath_fallback: bool,
    primary: str,
    upstreams: tuple[str, ...],
    upstream_secrets_file: click.utils.LazyFile | None,
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
            require_user_match=require_user_match,
            oath_fallback=oath_fallback,
            primary=primary,
            upstreams=_upstreams(upstreams, upstream_secrets_file) or (),
        ),
    )
    for warning in created.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"RADIUS client {name} ({created.client.network}, {mode}) added to tenant {tenant}")
    if created.secret is not None:
        click.echo("Its shared secret, shown only now:")
        click.echo(created.secret)


@radius_clients.command("set", help="Change options of the RADIUS client NAME (others are kept).")
@click.argument("name")
@click.option("--mode", type=click.Choice(RADIUS_MODES), help="See add.")
@click.option(
    "--require-message-authenticator/--no-require-message-authenticator",
    default=None,
    help="See add.",
)
@click.option("--limit-proxy-state/--no-limit-proxy-state", default=None, help="See add.")
@click.option("--push-wait", type=click.IntRange(0, 120), help="See add.")
@_options(None)
@tenant_option
@admin_change("radius_client.update")
def radius_clients_set(
    name: str,
    mode: str | None,
    require_message_authenticator: bool | None,
    limit_proxy_state: bool | None,
    push_wait: int | None,
    require_user_match: bool | None,
    oath_fallback: bool | None,
    primary: str | None,
    upstreams: tuple[str, ...],
    upstream_secrets_file: click.utils.LazyFile | None,
    tenant: str,
) -> None:
    from twostep.services.admin import OPERATOR
    from twostep.services.radius_clients import RadiusClientChange

    change = RadiusClientChange(
        mode=mode,
        require_message_authenticator=require_message_authenticator,
        limit_proxy_state=limit_proxy_state,
        push_wait_seconds=push_wait,
        require_user_match=require_user_match,
        oath_fallback=oath_fallback,
        primary=primary,
        upstreams=_upstreams(upstreams, upstream_secrets_file),
    )
    client = wired().radius_clients.update(OPERATOR, tenant, name, change)
    servers = ", ".join(f"{u.address}:{u.port}" for u in client.upstreams) or "-"
    click.echo(
        f"RADIUS client {name}: {client.mode.value}, primary {client.primary.value} "
        f"(upstreams {servers}), require user match "
        f"{'on' if client.require_user_match else 'off'}, OATH fallback "
        f"{'on' if client.oath_fallback else 'off'}"
    )


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
            "primary": c.primary.value,
            "user_match": "required" if c.require_user_match else "optional",
            "oath_fallback": "on" if c.oath_fallback else "off",
        }
        for c in wired().radius_clients.list(OPERATOR, tenant)
    ]
    columns = ["name", "network", "mode", "message_authenticator", "push_wait", "primary"]
    click.echo(table(rows, [*columns, "user_match", "oath_fallback"]))


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
