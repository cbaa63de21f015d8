"""``twostep gateways``: a tenant's text and call providers; ``twostep outbox``: answer
the development outbox's texts and calls from the shell."""

from __future__ import annotations

import json

import click

from twostep.adapters.gateways.common import sign
from twostep.domain.delivery import WebhookRequest
from twostep.interfaces.cli.common import reports_errors, table, wired
from twostep.services.admin import DEFAULT_TENANT, OPERATOR
from twostep.services.delivery import OUTBOX_ID
from twostep.services.phone_challenges import PhoneChallenges

tenant_option = click.option("--tenant", default=DEFAULT_TENANT, show_default=True)


def register(cli: click.Group) -> None:
    cli.add_command(gateways)
    cli.add_command(outbox)


@click.group(help="Gateways that deliver texts and calls (failover in position order).")
def gateways() -> None:
    pass


@gateways.command("add", help="Add a gateway: KIND is outbox, http, smtp or twilio.")
@click.argument("name")
@click.argument("kind")
@click.option(
    "--settings",
    "settings_json",
    required=True,
    help='The settings as JSON, e.g. \'{"account_sid": "AC...", "auth_token": "..."}\'.',
)
@click.option("--position", type=int, help="Failover order, lowest first (default: last).")
@tenant_option
@reports_errors
def gateways_add(
    name: str, kind: str, settings_json: str, position: int | None, tenant: str
) -> None:
    try:
        settings = json.loads(settings_json)
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"--settings is not JSON: {exc.msg}") from exc
    if not isinstance(settings, dict):
        raise click.UsageError("--settings must be a JSON object")
    view = wired().gateways.add(OPERATOR, tenant, name, kind, settings, position)
    click.echo(f"gateway {view.name} ({view.kind}) added at position {view.position}")
    click.echo(f"  texts back to:   {view.inbound_url}")
    click.echo(f"  call callbacks:  {view.calls_url}")


@gateways.command("list")
@tenant_option
@reports_errors
def gateways_list(tenant: str) -> None:
    rows = [
        {
            "position": v.position,
            "name": v.name,
            "kind": v.kind,
            "credentials": ",".join(v.credentials),
            "id": v.id,
        }
        for v in wired().gateways.list(OPERATOR, tenant)
    ]
    click.echo(table(rows, ["position", "name", "kind", "credentials", "id"]))


@gateways.command("delete")
@click.argument("name")
@tenant_option
@reports_errors
def gateways_delete(name: str, tenant: str) -> None:
    wired().gateways.delete(OPERATOR, tenant, name)
    click.echo(f"gateway {name} deleted")


@click.group(help="The development outbox: act as the phone that got a text or a call.")
def outbox() -> None:
    pass


@outbox.command("reply", help="Text back to a two-way SMS challenge from number FROM.")
@click.argument("sender", metavar="FROM")
@click.argument("text")
@reports_errors
def outbox_reply(sender: str, text: str) -> None:
    app = wired()
    app.phone.inbound_text(OUTBOX_ID, _signed(app.phone, {"from": sender, "text": text}))
    click.echo("reply delivered")


@outbox.command("press", help='Press keys in the call of TRANSACTION ("" is just #, 0 is 0#).')
@click.argument("transaction")
@click.argument("digits", default="")
@reports_errors
def outbox_press(transaction: str, digits: str) -> None:
    app = wired()
    data = {"reference": transaction, "digits": digits}
    answer = app.phone.call_event(OUTBOX_ID, _signed(app.phone, data))
    click.echo(answer.body.decode() if answer else "")


def _signed(phone: PhoneChallenges, data: dict[str, str]) -> WebhookRequest:
    """Signed with the outbox's own secret, exactly as its HTTP webhook would be."""
    body = json.dumps(data).encode()
    secret = phone.delivery.outbox.webhook_secret
    headers = {"content-type": "application/json", "x-twostep-signature": sign(secret, body)}
    return WebhookRequest(url="cli:", method="POST", headers=headers, body=body)
