"""Account events from the shell: disable, enable, require re-registration, and a user's
app passwords."""

from __future__ import annotations

import click

from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired


def register(cli: click.Group) -> None:
    users = cli.commands["users"]
    assert isinstance(users, click.Group)
    for command in (users_disable, users_enable, users_require_registration):
        users.add_command(command)
    cli.add_command(app_passwords)


@click.command("disable", help="Disable USER: every sign-in answers user_disabled.")
@click.argument("user")
@tenant_option
@admin_change("user.disable")
def users_disable(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().accounts.disable(OPERATOR, tenant, user)
    click.echo(f"user {user} disabled")


@click.command("enable", help="Enable USER again (after an admin's or a directory's disable).")
@click.argument("user")
@tenant_option
@admin_change("user.enable")
def users_enable(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().accounts.enable(OPERATOR, tenant, user)
    click.echo(f"user {user} enabled")


@click.command(
    "require-registration",
    help="Make USER register again: remove their methods (hardware tokens go back to the "
    "pool) and devices; sign-ins answer registration_required until they register.",
)
@click.argument("user")
@tenant_option
@admin_change("user.require_registration")
def users_require_registration(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().accounts.require_registration(OPERATOR, tenant, user)
    click.echo(f"user {user} must register again: methods and devices removed")


@click.group("app-passwords", help="App passwords: for legacy clients without two-step sign-in.")
def app_passwords() -> None:
    pass


@app_passwords.command("add", help="Create an app password NAME for USER; it is shown once.")
@click.argument("user")
@click.argument("name")
@tenant_option
@admin_change("app_password.create")
def app_passwords_add(user: str, name: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    made = wired().app_passwords.create(OPERATOR, tenant, user, name)
    click.echo(f"app password {made.app_password.name!r} (id {made.app_password.id}) for {user}:")
    click.echo(f"  {made.password}")
    click.echo("It is shown only now: type it in the client in place of the password.")


@app_passwords.command(
    "list", help="List USER's app passwords (names and use, never the passwords)."
)
@click.argument("user")
@tenant_option
@reports_errors
def app_passwords_list(user: str, tenant: str) -> None:
    from datetime import UTC, datetime

    from twostep.services.admin import OPERATOR

    def when(at: float | None) -> str | None:
        return None if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M")

    found = wired().app_passwords.list(OPERATOR, tenant, user)
    rows = [
        {
            "id": a.id,
            "name": a.name,
            "created": when(a.created_at),
            "last_used": when(a.last_used_at),
        }
        for a in found
    ]
    click.echo(table(rows, ["id", "name", "created", "last_used"]))


@app_passwords.command("delete", help="Delete USER's app password ID (see list).")
@click.argument("user")
@click.argument("app_password_id", metavar="ID")
@tenant_option
@admin_change("app_password.delete")
def app_passwords_delete(user: str, app_password_id: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().app_passwords.delete(OPERATOR, tenant, user, app_password_id)
    click.echo(f"app password {app_password_id} deleted")


@app_passwords.command("delete-all", help="Delete every app password of USER (a lost device).")
@click.argument("user")
@tenant_option
@admin_change("app_password.delete_all")
def app_passwords_delete_all(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    count = wired().app_passwords.delete_all(OPERATOR, tenant, user)
    click.echo(f"{count} app password(s) of {user} deleted")
