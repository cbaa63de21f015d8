"""Tenants, users, integrations, API keys, secrets and the audit log from the shell."""

from __future__ import annotations

import sys
from dataclasses import asdict

import click

from twostep.domain.entities import MfaState, Role
from twostep.domain.ports import NewUser
from twostep.interfaces.audit_rows import audit_row, write_csv
from twostep.interfaces.cli.common import reports_errors, table, wired
from twostep.services.admin import DEFAULT_TENANT, OPERATOR
from twostep.services.keys import rotate_secrets

tenant_option = click.option("--tenant", default=DEFAULT_TENANT, show_default=True)


def register(cli: click.Group) -> None:
    for group in (tenants, users, integrations, keys):
        cli.add_command(group)
    cli.add_command(audit)


@click.group(help="Tenants and their settings.")
def tenants() -> None:
    pass


@tenants.command("add")
@click.argument("name")
@reports_errors
def tenants_add(name: str) -> None:
    app = wired()
    app.admin.create_tenant(OPERATOR, name)
    click.echo(f"tenant {name} created")


@tenants.command("list")
@reports_errors
def tenants_list() -> None:
    app = wired()
    click.echo(table([{"name": t.name} for t in app.admin.list_tenants(OPERATOR)], ["name"]))


@tenants.command("set", help="Change a tenant setting, e.g. `tenants set max_failures 5`.")
@click.argument("setting")
@click.argument("value")
@tenant_option
@reports_errors
def tenants_set(setting: str, value: str, tenant: str) -> None:
    import json

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


@users.command("add")
@click.argument("user")
@click.option("--first-name")
@click.option("--last-name")
@click.option("--email")
@click.option("--phone", help="International format, e.g. +14155550123.")
@click.option("--mfa", type=click.Choice([s.value for s in MfaState]), default="enabled")
@tenant_option
@reports_errors
def users_add(
    user: str,
    first_name: str | None,
    last_name: str | None,
    email: str | None,
    phone: str | None,
    mfa: str,
    tenant: str,
) -> None:
    app = wired()
    app.admin.create_user(
        OPERATOR,
        tenant,
        NewUser(user, first_name, last_name, email, phone, MfaState(mfa)),
    )
    click.echo(f"user {user} created in tenant {tenant}")


@users.command("list")
@tenant_option
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@reports_errors
def users_list(tenant: str, limit: int) -> None:
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


@users.command("show")
@click.argument("user")
@tenant_option
@reports_errors
def users_show(user: str, tenant: str) -> None:
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


@users.command("unlock")
@click.argument("user")
@tenant_option
@reports_errors
def users_unlock(user: str, tenant: str) -> None:
    wired().admin.unlock_user(OPERATOR, tenant, user)
    click.echo(f"user {user} unlocked")


@users.command("delete")
@click.argument("user")
@tenant_option
@reports_errors
def users_delete(user: str, tenant: str) -> None:
    wired().admin.delete_user(OPERATOR, tenant, user)
    click.echo(f"user {user} deleted")


@click.group(help="Integrations: the applications and servers that validate users.")
def integrations() -> None:
    pass


@integrations.command("add", help="Create an integration and print its key (shown once).")
@click.argument("name")
@tenant_option
@reports_errors
def integrations_add(name: str, tenant: str) -> None:
    _integration, key = wired().admin.create_integration(OPERATOR, tenant, name)
    click.echo(f"integration {name} created in tenant {tenant}. Its key, shown only now:")
    click.echo(key)


@integrations.command("list")
@tenant_option
@reports_errors
def integrations_list(tenant: str) -> None:
    rows = [
        {"name": i.name, "key_id": i.key_id, "revoked": "yes" if i.revoked_at else ""}
        for i in wired().admin.list_integrations(OPERATOR, tenant)
    ]
    click.echo(table(rows, ["name", "key_id", "revoked"]))


@integrations.command("revoke")
@click.argument("name")
@tenant_option
@reports_errors
def integrations_revoke(name: str, tenant: str) -> None:
    wired().admin.revoke_integration(OPERATOR, tenant, name)
    click.echo(f"integration {name} revoked")


@click.group(help="Admin API keys and the secret-encryption key.")
def keys() -> None:
    pass


@keys.command("create", help="Create an admin API key and print it (shown once).")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", default="admin", show_default=True)
@click.option("--tenant", default=None, help="The tenant of a tenant_admin key.")
@reports_errors
def keys_create(role: str, name: str, tenant: str | None) -> None:
    admin_key, key = wired().admin.create_admin_key(OPERATOR, name, Role(role), tenant)
    click.echo(f"{admin_key.role.value} key {admin_key.key_id} created. The key, shown only now:")
    click.echo(key)


@keys.command("list")
@reports_errors
def keys_list() -> None:
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


@keys.command("revoke")
@click.argument("key_id")
@reports_errors
def keys_revoke(key_id: str) -> None:
    wired().admin.revoke_admin_key(OPERATOR, key_id)
    click.echo(f"key {key_id} revoked")


@keys.command("rotate-secrets", help="Re-encrypt every stored seed under a new key.")
@reports_errors
def keys_rotate() -> None:
    app = wired()
    report = rotate_secrets(app.storage, app.keys)
    click.echo(f"re-encrypted {report.reencrypted} secret(s); {report.note}")


@click.command(help="Read the audit log: the newest events, oldest of them first.")
@tenant_option
@click.option("--user")
@click.option("--result", type=click.Choice(["accept", "reject", "challenge"]))
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--csv", "as_csv", is_flag=True, help="CSV with the API's columns.")
@reports_errors
def audit(tenant: str, user: str | None, result: str | None, limit: int, as_csv: bool) -> None:
    app = wired()
    newest = app.audit.query(
        OPERATOR, tenant, user=user, result=result, limit=limit, newest_first=True
    )
    events = list(reversed(newest))
    if as_csv:
        write_csv(sys.stdout, events, full_phone=True)  # the operator on the host
        return
    rows = [audit_row(e) for e in events]
    for row in rows:
        row["time"] = row["time"].replace("T", " ")[:19]
    click.echo(
        table(rows, ["time", "user", "method", "result", "reason", "integration", "client_ip"])
    )
