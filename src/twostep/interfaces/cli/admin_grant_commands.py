"""Admin grants from the shell: who may sign in to the management portal, as what."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from twostep.interfaces.cli import admin_commands
from twostep.interfaces.cli.choices import GRANT_ROLES
from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired


def register(cli: click.Group) -> None:
    cli.add_command(admins)
    admin_commands.users.add_command(users_sign_out)


@click.group(
    "admins",
    help="Who may sign in to the management portal (/admin), with which role: users of a "
    "tenant, each granted a role.",
)
def admins() -> None:
    pass


@admins.command(
    "grant",
    help="Grant USER (of --tenant) a role: global_admin (everything), tenant_admin (one "
    "tenant: --scope, default the user's), help_desk (find users, unlock, re-registration, "
    "app passwords; no settings or keys).",
)
@click.argument("user")
@click.option("--role", type=click.Choice(GRANT_ROLES), required=True, help="The role to grant.")
@click.option("--scope", default=None, help="The tenant the role covers (not for global_admin).")
@tenant_option
@admin_change("admin_grant.create")
def admins_grant(user: str, role: str, scope: str | None, tenant: str) -> None:
    from twostep.domain.entities import Role
    from twostep.services.admin import OPERATOR

    grant = wired().admin_grants.grant(OPERATOR, tenant, user, Role(role), scope)
    over = f" over {grant.scope}" if grant.scope else ""
    click.echo(f"{grant.tenant}/{grant.user} is {role}{over} (grant {grant.id})")


@admins.command("revoke", help="Revoke the grant GRANT_ID (`admins list`); the user is signed out.")
@click.argument("grant_id")
@admin_change("admin_grant.revoke")
def admins_revoke(grant_id: str) -> None:
    from twostep.services.admin import OPERATOR

    grant = wired().admin_grants.revoke(OPERATOR, grant_id)
    click.echo(f"grant {grant.id} revoked: {grant.tenant}/{grant.user} is no longer {grant.role}")


@admins.command("list", help="List every admin grant.")
@reports_errors
def admins_list() -> None:
    from twostep.services.admin import OPERATOR

    rows = [
        {
            "id": g.id,
            "tenant": g.tenant,
            "user": g.user,
            "role": g.role.value,
            "scope": g.scope or "(all)",
            "granted": datetime.fromtimestamp(g.created_at, UTC).strftime("%Y-%m-%d %H:%M"),
        }
        for g in wired().admin_grants.list(OPERATOR)
    ]
    click.echo(table(rows, ["id", "tenant", "user", "role", "scope", "granted"]))


@click.command("sign-out", help="End every page session of USER (management and self-service).")
@click.argument("user")
@tenant_option
@admin_change("sessions.revoke")
def users_sign_out(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    ended = wired().page_sessions.revoke_user(OPERATOR, tenant, user)
    click.echo(f"{user}: {ended} page session(s) ended")
