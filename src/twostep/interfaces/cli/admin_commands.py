"""Tenants, users, integrations, API keys, secrets and the audit log from the shell."""

from __future__ import annotations

import click

from twostep.interfaces.cli import bypass_commands, rollup_commands
from twostep.interfaces.cli.choices import KEY_ROLES, MFA_STATES
from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired


def register(cli: click.Group) -> None:
    for group in (tenants, users, integrations, keys):
        cli.add_command(group)
    users.add_command(bypass_commands.users_bypass)
    cli.add_command(audit)
    audit.add_command(rollup_commands.rollup)


@click.group(help="Tenants and their settings.")
def tenants() -> None:
    pass


@tenants.command("add", help="Create the tenant NAME (lower-case letters, digits, - and _).")
@click.argument("name")
@admin_change("tenant.create")
def tenants_add(name: str) -> None:
    from twostep.services.admin import OPERATOR

    app = wired()
    app.admin.create_tenant(OPERATOR, name)
    click.echo(f"tenant {name} created")


@tenants.command("list", help="List the tenants.")
@reports_errors
def tenants_list() -> None:
    from twostep.services.admin import OPERATOR

    app = wired()
    click.echo(table([{"name": t.name} for t in app.admin.list_tenants(OPERATOR)], ["name"]))


@tenants.command(
    "set",
    help="Set the tenant setting SETTING to VALUE (numbers and lists as JSON), e.g. "
    "`tenants set max_failures 5`.",
)
@click.argument("setting")
@click.argument("value")
@tenant_option
@admin_change("settings.update")
def tenants_set(setting: str, value: str, tenant: str) -> None:
    import json

    from twostep.services.admin import OPERATOR

    app = wired()
    parsed: object = value
    current = app.admin.get_tenant(OPERATOR, tenant).settings.to_dict()
    if not isinstance(current.get(setting), str):  # numbers and lists are written as JSON
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
    settings = app.admin.update_settings(OPERATOR, tenant, {setting: parsed}).settings
    click.echo(f"{setting} = {settings.to_dict()[setting]}")


@click.group(help="Users.")
def users() -> None:
    pass


@users.command("add", help="Create the user USER (their user name).")
@click.argument("user")
@click.option("--first-name", help="Given name, for display.")
@click.option("--last-name", help="Family name, for display.")
@click.option("--email", help="Email address.")
@click.option("--phone", help="International format, e.g. +14155550123.")
@click.option(
    "--mfa",
    type=click.Choice(MFA_STATES),
    default="enabled",
    show_default=True,
    help="enabled: must register a method; enforced: has one; disabled: exempted.",
)
@tenant_option
@admin_change("user.create")
def users_add(
    user: str,
    first_name: str | None,
    last_name: str | None,
    email: str | None,
    phone: str | None,
    mfa: str,
    tenant: str,
) -> None:
    from twostep.domain.entities import MfaState
    from twostep.domain.ports.users import NewUser
    from twostep.services.admin import OPERATOR

    app = wired()
    app.admin.create_user(
        OPERATOR,
        tenant,
        NewUser(user, first_name, last_name, email, phone, MfaState(mfa)),
    )
    click.echo(f"user {user} created in tenant {tenant}")


@users.command("list", help="List the tenant's users, by name.")
@tenant_option
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="At most this many users.",
)
@reports_errors
def users_list(tenant: str, limit: int) -> None:
    from twostep.services.admin import OPERATOR

    app = wired()
    now = app.deps.clock.now()
    rows = [
        {
            "user": u.name,
            "name": " ".join(filter(None, [u.first_name, u.last_name])),
            "mfa": u.mfa.value,
            "locked": "yes" if u.is_locked(now) else "",
        }
        for u in app.admin.list_users(OPERATOR, tenant, None, limit)
    ]
    click.echo(table(rows, ["user", "name", "mfa", "locked"]))


@users.command("show", help="Show the user USER and their methods.")
@click.argument("user")
@tenant_option
@reports_errors
def users_show(user: str, tenant: str) -> None:
    from dataclasses import asdict

    from twostep.services.admin import OPERATOR

    app = wired()
    found = app.admin.get_user(OPERATOR, tenant, user)
    now = app.deps.clock.now()
    for key, value in asdict(found).items():
        if key not in ("id", "tenant_id", "locked_until"):
            click.echo(f"{key:18} {'' if value is None else value}")
    click.echo(f"{'locked':18} {'yes' if found.is_locked(now) else 'no'}")
    for method in app.enroll.list(OPERATOR, tenant, user):
        star = "*" if method.id == found.default_method_id else " "
        click.echo(
            f"method {star} {method.id}  {method.kind.value}  {method.status.value}  "
            f"{method.serial or method.label or ''}"
        )


@users.command("unlock", help="Unlock the user USER after too many failures or a fraud report.")
@click.argument("user")
@tenant_option
@admin_change("user.unlock")
def users_unlock(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().admin.unlock_user(OPERATOR, tenant, user)
    click.echo(f"user {user} unlocked")


@users.command("delete", help="Delete the user USER and their methods.")
@click.argument("user")
@tenant_option
@admin_change("user.delete")
def users_delete(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().admin.delete_user(OPERATOR, tenant, user)
    click.echo(f"user {user} deleted")


@click.group(help="Integrations: the applications and servers that validate users.")
def integrations() -> None:
    pass


@integrations.command(
    "add", help="Create the integration NAME and print its key (shown only once)."
)
@click.argument("name")
@click.option(
    "--legacy",
    is_flag=True,
    help="A client that sends a password and nothing else: an app password stands in.",
)
@tenant_option
@admin_change("integration.create")
def integrations_add(name: str, legacy: bool, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    _integration, key = wired().admin.create_integration(OPERATOR, tenant, name, legacy=legacy)
    click.echo(f"integration {name} created in tenant {tenant}. Its key, shown only now:")
    click.echo(key)


@integrations.command("list", help="List the tenant's integrations.")
@tenant_option
@reports_errors
def integrations_list(tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    rows = [
        {
            "name": i.name,
            "key_id": i.key_id,
            "legacy": "yes" if i.legacy else "",
            "trusted_client_addresses": "yes" if i.trusted_client_addresses else "",
            "revoked": "yes" if i.revoked_at else "",
        }
        for i in wired().admin.list_integrations(OPERATOR, tenant)
    ]
    click.echo(table(rows, ["name", "key_id", "legacy", "trusted_client_addresses", "revoked"]))


@integrations.command("set", help="Change the integration NAME.")
@click.argument("name")
@click.option(
    "--legacy/--no-legacy",
    default=None,
    help="Whether it sends a password and nothing else (an app password stands in).",
)
@click.option(
    "--trusted-client-addresses/--no-trusted-client-addresses",
    default=None,
    help="Whether the client_ip it sends is one it vouches for, so an address in the "
    "tenant's trusted_networks skips the second factor (off: only recorded).",
)
@tenant_option
@admin_change("integration.update")
def integrations_set(
    name: str, legacy: bool | None, trusted_client_addresses: bool | None, tenant: str
) -> None:
    from twostep.services.admin import OPERATOR

    if legacy is None and trusted_client_addresses is None:
        raise click.UsageError("give --legacy/--no-legacy, --trusted-client-addresses/... or both")
    admin = wired().admin
    if legacy is not None:
        admin.set_legacy(OPERATOR, tenant, name, legacy)
        click.echo(f"integration {name}: legacy {'on' if legacy else 'off'}")
    if trusted_client_addresses is not None:
        admin.set_trusted_client_addresses(OPERATOR, tenant, name, trusted_client_addresses)
        state = "on" if trusted_client_addresses else "off"
        click.echo(f"integration {name}: trusted_client_addresses {state}")


@integrations.command("revoke", help="Revoke the integration NAME: its key stops working.")
@click.argument("name")
@tenant_option
@admin_change("integration.revoke")
def integrations_revoke(name: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().admin.revoke_integration(OPERATOR, tenant, name)
    click.echo(f"integration {name} revoked")


@click.group(help="Admin API keys and the secret-encryption key.")
def keys() -> None:
    pass


@keys.command("create", help="Create an admin API key and print it (shown only once).")
@click.option(
    "--role",
    type=click.Choice(KEY_ROLES),
    required=True,
    help="global_admin: everything; tenant_admin: one tenant.",
)
@click.option("--name", default="admin", show_default=True, help="A name to recognise it by.")
@click.option("--tenant", default=None, help="The tenant of a tenant_admin key.")
@admin_change("admin_key.create")
def keys_create(role: str, name: str, tenant: str | None) -> None:
    from twostep.domain.entities import Role
    from twostep.services.admin import OPERATOR

    admin_key, key = wired().admin.create_admin_key(OPERATOR, name, Role(role), tenant)
    click.echo(f"{admin_key.role.value} key {admin_key.key_id} created. The key, shown only now:")
    click.echo(key)


@keys.command("list", help="List the admin API keys (never the keys themselves).")
@reports_errors
def keys_list() -> None:
    from twostep.services.admin import OPERATOR

    rows = [
        {
            "key_id": k.key_id,
            "name": k.name,
            "role": k.role.value,
            "revoked": "yes" if k.revoked_at else "",
        }
        for k in wired().admin.list_admin_keys(OPERATOR)
    ]
    click.echo(table(rows, ["key_id", "name", "role", "revoked"]))


@keys.command("revoke", help="Revoke the admin API key KEY_ID.")
@click.argument("key_id")
@admin_change("admin_key.revoke")
def keys_revoke(key_id: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().admin.revoke_admin_key(OPERATOR, key_id)
    click.echo(f"key {key_id} revoked")


@keys.command("rotate-secrets", help="Re-encrypt every stored seed under a new key.")
@admin_change("secret_key.rotate")
def keys_rotate() -> None:
    from twostep.services.admin import OPERATOR
    from twostep.services.keys import rotate_secrets

    app = wired()
    report = rotate_secrets(app.deps, app.keys, OPERATOR)
    click.echo(f"re-encrypted {report.reencrypted} secret(s); {report.note}")


@click.group(
    invoke_without_command=True,
    help="Read the audit log: the newest events, oldest of them first. "
    "`twostep audit rollup` updates the usage rollups.",
)
@tenant_option
@click.option("--user", help="Only this user's events.")
@click.option(
    "--result", type=click.Choice(["accept", "reject", "challenge"]), help="Only this result."
)
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="At most this many events.",
)
@click.option("--request-id", help="Only the events of this request (its X-Request-ID).")
@click.option("--provider", help="The events of this provider's (its id) linked tenant.")
@click.option("--method", help="Only this method kind (e.g. sms).")
@click.option("--reason", help="Only this reason code (e.g. invalid_code).")
@click.option("--integration", help="Only this integration's events.")
@click.option("--interface", help="Only this interface's (http, radius, web, cli).")
@click.option("--since", help="From this time on (ISO 8601 with a zone, e.g. 2027-01-01T00:00Z).")
@click.option("--until", help="Before this time (ISO 8601 with a zone).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with the API's columns.")
@click.pass_context
@reports_errors
def audit(
    ctx: click.Context,
    tenant: str,
    user: str | None,
    result: str | None,
    limit: int,
    request_id: str | None,
    provider: str | None,
    method: str | None,
    reason: str | None,
    integration: str | None,
    interface: str | None,
    since: str | None,
    until: str | None,
    as_csv: bool,
) -> None:
    if ctx.invoked_subcommand is not None:  # `audit rollup`: that command alone
        return
    import sys

    from twostep.interfaces.audit_rows import audit_row, parse_time, write_csv
    from twostep.services.admin import OPERATOR

    app = wired()
    newest = app.audit.query(
        OPERATOR,
        None if provider else tenant,
        provider=provider,
        user=user,
        result=result,
        method=method,
        reason=reason,
        integration=integration,
        interface=interface,
        request_id=request_id,
        since=parse_time(since, "since"),
        until=parse_time(until, "until"),
        limit=limit,
        newest_first=True,
    )
    events = list(reversed(newest))
    if as_csv:
        write_csv(sys.stdout, events, full_phone=True)  # the operator on the host
        return
    rows = [audit_row(e) for e in events]
    for row in rows:
        row["time"] = row["time"].replace("T", " ")[:19]
    click.echo(
        table(
            rows,
            [
                "time",
                "user",
                "method",
                "result",
                "reason",
                "integration",
                "client_ip",
                "request_id",
            ],
        )
    )
