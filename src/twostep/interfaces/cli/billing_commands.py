"""Providers, licenses, statements and integration activation from the shell (issue 15)."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from twostep.interfaces.cli import admin_commands
from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired

BILLING_MODELS = ("per_user", "per_authentication")  # domain.billing.BillingModel


def register(cli: click.Group) -> None:
    cli.add_command(providers)
    cli.add_command(billing)
    cli.add_command(licenses)
    admin_commands.integrations.add_command(integrations_activation)
    admin_commands.integrations.add_command(integrations_activate)


def _when(at: float | None) -> str:
    return "" if at is None else dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M")


@click.group(
    "providers",
    help="Providers: billing accounts, each billed per user or per authentication (fixed "
    "at creation), optionally linked to one tenant.",
)
def providers() -> None:
    pass


@providers.command(
    "create",
    help="Create the provider NAME and print its id. Linking a tenant that had a provider "
    "before is a replacement: its integrations and users' apps must be activated again.",
)
@click.argument("name")
@click.option(
    "--billing-model",
    type=click.Choice(BILLING_MODELS),
    required=True,
    help="How it is billed; it never changes.",
)
@click.option("--link-tenant", "link", default=None, help="The tenant to link (default: none).")
@click.option(
    "--time-zone", default="UTC", show_default=True, help="IANA zone of its billing months."
)
@admin_change("provider.create")
def providers_create(name: str, billing_model: str, link: str | None, time_zone: str) -> None:
    from twostep.domain.billing import BillingModel
    from twostep.services.admin import OPERATOR

    made = wired().providers.create(OPERATOR, name, BillingModel(billing_model), link, time_zone)
    click.echo(f"provider {made.id} created: {made.name}, {made.billing_model.value}")


@providers.command("list", help="List the providers.")
@click.option("--deleted", is_flag=True, help="Deleted providers too.")
@reports_errors
def providers_list(deleted: bool) -> None:
    from twostep.services.admin import OPERATOR

    rows = [
        {
            "id": p.id,
            "name": p.name,
            "model": p.billing_model.value,
            "tenant": p.tenant or "",
            "zone": p.time_zone,
            "created": _when(p.created_at),
            "deleted": _when(p.deleted_at),
        }
        for p in wired().providers.list(OPERATOR, deleted=deleted)
    ]
    click.echo(table(rows, ["id", "name", "model", "tenant", "zone", "created", "deleted"]))


@providers.command("rename", help="Rename the provider PROVIDER (its id) to NAME.")
@click.argument("provider")
@click.argument("name")
@admin_change("provider.update")
def providers_rename(provider: str, name: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().providers.update(OPERATOR, provider, name=name)
    click.echo(f"provider {provider} renamed {name}")


@providers.command(
    "delete", help="Delete the provider PROVIDER (its id); its months can still be stated."
)
@click.argument("provider")
@admin_change("provider.delete")
def providers_delete(provider: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().providers.delete(OPERATOR, provider)
    click.echo(f"provider {provider} deleted")


@click.group("billing", help="Billing statements of providers.")
def billing() -> None:
    pass


@billing.command(
    "statement",
    help="The billable units of PROVIDER (its id) in MONTH (YYYY-MM, in the provider's "
    "zone), with the breakdown, as JSON (or CSV).",
)
@click.argument("provider")
@click.argument("month")
@click.option("--csv", "as_csv", is_flag=True, help="CSV instead of JSON.")
@reports_errors
def billing_statement(provider: str, month: str, as_csv: bool) -> None:
    from twostep.interfaces.billing_rows import statement_body, write_csv
    from twostep.services.admin import OPERATOR

    found = wired().billing.statement(OPERATOR, provider, month)
    if as_csv:
        write_csv(sys.stdout, found)
    else:
        click.echo(json.dumps(statement_body(found), indent=2, ensure_ascii=False))


@click.group("licenses", help="Licenses a tenant holds and assigns to its users.")
def licenses() -> None:
    pass


@licenses.command("show", help="The licenses the tenant holds and how many are assigned.")
@tenant_option
@reports_errors
def licenses_show(tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    found = wired().licenses.get(OPERATOR, tenant)
    click.echo(f"tenant {found.tenant}: {found.assigned} of {found.held} licenses assigned")


@licenses.command("set", help="The tenant holds HELD licenses (not fewer than are assigned).")
@click.argument("held", type=click.IntRange(0, 10_000_000))
@tenant_option
@admin_change("licenses.update")
def licenses_set(held: int, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    found = wired().licenses.set_held(OPERATOR, tenant, held)
    click.echo(f"tenant {found.tenant}: {found.assigned} of {found.held} licenses assigned")


@licenses.command("assign", help="Assign one of the tenant's licenses to USER.")
@click.argument("user")
@tenant_option
@admin_change("license.assign")
def licenses_assign(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    found = wired().licenses.assign(OPERATOR, tenant, user)
    click.echo(f"{user} holds a license ({found.assigned} of {found.held} assigned)")


@licenses.command("unassign", help="Take USER's license back.")
@click.argument("user")
@tenant_option
@admin_change("license.unassign")
def licenses_unassign(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    found = wired().licenses.unassign(OPERATOR, tenant, user)
    click.echo(f"{user} holds no license ({found.assigned} of {found.held} assigned)")


@click.command(
    "activation",
    help="Make activation credentials for the integration NAME (a code and a one-time "
    "password, valid 10 minutes, shown only now) under the tenant's provider.",
)
@click.argument("name")
@tenant_option
@admin_change("integration.activation")
def integrations_activation(name: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    made = wired().activations.generate(OPERATOR, tenant, name)
    click.echo(f"activation credentials for {made.integration}, until {_when(made.expires_at)}:")
    click.echo(f"code:     {made.code}")
    click.echo(f"password: {made.password}")


@click.command(
    "activate",
    help="Exchange the activation CODE and PASSWORD once, at the Twostep server at --url, "
    "for the integration's new key (printed; shown only now).",
)
@click.argument("code")
@click.argument("password")
@click.option("--url", required=True, help="The Twostep server, e.g. https://mfa.example.com.")
def integrations_activate(code: str, password: str, url: str) -> None:
    import httpx

    base = url.rstrip("/")
    try:
        answer = httpx.post(
            base + "/v1/activations", json={"code": code, "password": password}, timeout=30
        )
    except httpx.HTTPError as exc:
        raise click.ClickException(f"no Twostep server answers at {base} ({exc})") from exc
    if answer.status_code >= 400:
        try:
            error = answer.json()["error"]
            message = f"[{error['code']}] {error['message']}"
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {answer.status_code}"
        raise click.ClickException(message)
    done = answer.json()
    activated = f"integration {done['integration']} of tenant {done['tenant']} activated"
    if done.get("key") is None:  # a RADIUS client's: no key, the NAS's secret is unchanged
        click.echo(f"{activated} (a RADIUS client: its shared secret is unchanged)")
        return
    click.echo(f"{activated}. Its key:")
    click.echo(done["key"])
