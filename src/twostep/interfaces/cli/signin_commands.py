"""The hosted sign-in page's settings of an integration: its return URLs and its signing
secret (docs/hosted-signin.md)."""

from __future__ import annotations

import click

from twostep.interfaces.cli import admin_commands
from twostep.interfaces.cli.common import admin_change, reports_errors, tenant_option, wired


def register(cli: click.Group) -> None:
    admin_commands.integrations.add_command(signin)


@click.group(help="The hosted sign-in page (/signin): return URLs and the signing secret.")
def signin() -> None:
    pass


def _show(integration: str, key_id: str, urls: tuple[str, ...], issued: float | None) -> None:
    click.echo(f"integration {integration} (key id {key_id})")
    click.echo(f"signing secret: {'issued' if issued is not None else 'none (requests refused)'}")
    click.echo("return URLs:" if urls else "return URLs: none (requests refused)")
    for url in urls:
        click.echo(f"  {url}")


@signin.command("show", help="Show the hosted sign-in settings of the integration NAME.")
@click.argument("name")
@tenant_option
@reports_errors
def signin_show(name: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    config = wired().hosted_signin.config(OPERATOR, tenant, name)
    _show(config.integration, config.key_id, config.return_urls, config.secret_issued_at)


@signin.command(
    "urls",
    help="Set the return URLs of the integration NAME to URLS: exact https URLs (http on a "
    "loopback host), no query or fragment. They replace the list; --clear empties it.",
)
@click.argument("name")
@click.argument("urls", nargs=-1)
@click.option("--clear", is_flag=True, help="Remove every return URL.")
@tenant_option
@admin_change("integration.signin_urls")
def signin_urls(name: str, urls: tuple[str, ...], clear: bool, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    if bool(urls) == clear:
        raise click.UsageError("give the return URLs, or --clear (not both)")
    config = wired().hosted_signin.set_return_urls(OPERATOR, tenant, name, list(urls))
    _show(config.integration, config.key_id, config.return_urls, config.secret_issued_at)


@signin.command(
    "secret",
    help="Issue the signing secret of the integration NAME, or rotate it (the old one "
    "stops working at once); prints it only now.",
)
@click.argument("name")
@tenant_option
@admin_change("integration.signin_secret")
def signin_secret(name: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    config, secret = wired().hosted_signin.issue_secret(OPERATOR, tenant, name)
    click.echo(f"signing secret of integration {config.integration} (key id {config.key_id}),")
    click.echo("shown only now:")
    click.echo(secret)
