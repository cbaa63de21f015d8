"""One-time enrollment links from the shell: make one for a user with no method yet (it is
printed once, to send to the user: ``twostep users enrollment-link``), list a user's links
and revoke the open ones (``twostep enrollment-links list|revoke``)."""

from __future__ import annotations

import click

from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired


def register(cli: click.Group) -> None:
    users = cli.commands["users"]
    assert isinstance(users, click.Group)
    users.add_command(users_enrollment_link)
    cli.add_command(enrollment_links)


def _when(at: float | None) -> str | None:
    from datetime import UTC, datetime

    return None if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M")


@click.command(
    "enrollment-link",
    help="Make a one-time link for USER (no method yet) to register a first one at the "
    "self-service portal; it is shown once. A new link revokes USER's open ones.",
)
@click.argument("user")
@tenant_option
@admin_change("enrollment_link.create")
def users_enrollment_link(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    made = wired().enrollment_links.create(OPERATOR, tenant, user)
    until = _when(made.link.expires_at)
    click.echo(f"enrollment link for {user} (id {made.link.id}), once, until {until} UTC:")
    click.echo(f"  {made.url}")
    click.echo("It is shown only now: send it to the user (whoever holds it registers as them).")


@click.group("enrollment-links", help="One-time links for users to register a first method.")
def enrollment_links() -> None:
    pass


@enrollment_links.command("list", help="List USER's enrollment links (never the links).")
@click.argument("user")
@tenant_option
@reports_errors
def enrollment_links_list(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    app = wired()
    now = app.deps.clock.now()
    rows = [
        {
            "id": link.id,
            "status": link.status(now),
            "created": _when(link.created_at),
            "expires": _when(link.expires_at),
            "used": _when(link.used_at),
        }
        for link in app.enrollment_links.list(OPERATOR, tenant, user)
    ]
    click.echo(table(rows, ["id", "status", "created", "expires", "used"]))


@enrollment_links.command("revoke", help="Revoke USER's open enrollment links.")
@click.argument("user")
@tenant_option
@admin_change("enrollment_link.revoke")
def enrollment_links_revoke(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    count = wired().enrollment_links.revoke(OPERATOR, tenant, user)
    click.echo(f"{count} enrollment link(s) of {user} revoked")
