"""``twostep users bypass``: MFA Server's one-time bypass from the shell."""

from __future__ import annotations

import click

from twostep.interfaces.cli.common import admin_change, tenant_option, wired


@click.command(
    "bypass",
    help="Let the next sign-in of the user USER through without a second factor, once, "
    "within --seconds (MFA Server's one-time bypass); --cancel closes an open one.",
)
@click.argument("user")
@click.option(
    "--seconds",
    type=click.IntRange(1, 1800),
    default=300,
    show_default=True,
    help="How long the bypass stays open (at most 1800).",
)
@click.option("--cancel", is_flag=True, help="Close the user's open bypass instead.")
@tenant_option
@admin_change("user.bypass", cancel="user.bypass_cancel")
def users_bypass(user: str, seconds: int, cancel: bool, tenant: str) -> None:
    from datetime import UTC, datetime

    from twostep.services.admin import OPERATOR

    bypasses = wired().bypasses
    if cancel:
        closed = bypasses.cancel(OPERATOR, tenant, user)
        click.echo(f"user {user}: bypass cancelled" if closed else f"user {user}: no open bypass")
        return
    until = bypasses.grant(OPERATOR, tenant, user, seconds).bypass_until or 0.0
    end = datetime.fromtimestamp(until, UTC).isoformat(timespec="seconds")
    click.echo(f"user {user}: the next sign-in until {end} skips the second factor, once")
