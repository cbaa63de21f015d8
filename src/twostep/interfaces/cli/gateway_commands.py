"""``twostep gateways``: a tenant's text and call providers; ``twostep outbox``: answer
the development outbox's texts and calls from the shell."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote

import click

from twostep.interfaces.cli.common import (
    admin_change,
    load_config,
    reports_errors,
    table,
    tenant_option,
    wired,
)

if TYPE_CHECKING:
    from twostep.config import Config


def register(cli: click.Group) -> None:
    cli.add_command(gateways)
    cli.add_command(outbox)


@click.group(help="Gateways that deliver texts and calls (failover in position order).")
def gateways() -> None:
    pass


@gateways.command("add", help="Add the gateway NAME of KIND: outbox, http, smtp or twilio.")
@click.argument("name")
@click.argument("kind")
@click.option(
    "--settings",
    "settings_json",
    required=True,
    help='The settings as JSON, e.g. \'{"account_sid": "AC...", "auth_token": "..."}\'.',
)
@click.option(
    "--position",
    type=click.IntRange(0, 1000),
    help="Failover order, lowest first (default: last).",
)
@tenant_option
@admin_change("gateway.add")
def gateways_add(
    name: str, kind: str, settings_json: str, position: int | None, tenant: str
) -> None:
    try:
        settings = json.loads(settings_json)
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"--settings is not JSON: {exc.msg}") from exc
    if not isinstance(settings, dict):
        raise click.UsageError("--settings must be a JSON object")
    from twostep.services.admin import OPERATOR

    view = wired().gateways.add(OPERATOR, tenant, name, kind, settings, position)
    click.echo(f"gateway {view.name} ({view.kind}) added at position {view.position}")
    click.echo(f"  texts back to:   {view.inbound_url}")
    click.echo(f"  call callbacks:  {view.calls_url}")


@gateways.command("list", help="List the tenant's gateways in failover order.")
@tenant_option
@reports_errors
def gateways_list(tenant: str) -> None:
    from twostep.services.admin import OPERATOR

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


@gateways.command("delete", help="Delete the gateway NAME.")
@click.argument("name")
@tenant_option
@admin_change("gateway.delete")
def gateways_delete(name: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().gateways.delete(OPERATOR, tenant, name)
    click.echo(f"gateway {name} deleted")


@click.group(help="The development outbox: act as the phone that got a text or a call.")
def outbox() -> None:
    pass


_SERVER_HELP = (
    "The Twostep server to post to (default: this machine's, http://TWOSTEP_HOST:TWOSTEP_PORT)."
)


@outbox.command("reply", help="Text TEXT back to a two-way SMS challenge from number FROM.")
@click.argument("sender", metavar="FROM")
@click.argument("text")
@click.option("--server", help=_SERVER_HELP)
@reports_errors
def outbox_reply(sender: str, text: str, server: str | None) -> None:
    _post(server, "/v1/gateways/outbox/inbound", {"from": sender, "text": text})
    click.echo("reply delivered")


@outbox.command("press", help='Press DIGITS in the call of TRANSACTION ("" is just #, 0 is 0#).')
@click.argument("transaction")
@click.argument("digits", default="")
@click.option("--server", help=_SERVER_HELP)
@reports_errors
def outbox_press(transaction: str, digits: str, server: str | None) -> None:
    path = f"/v1/gateways/outbox/calls?ref={quote(transaction)}"
    answer = _post(server, path, {"reference": transaction, "digits": digits})
    click.echo(answer)


def _post(server: str | None, path: str, data: dict[str, str]) -> str:
    """Post the webhook, signed with the outbox's secret, to the running server, as the
    provider would: the server decides, logs and alerts (not this command's process)."""
    import httpx

    from twostep.adapters.gateways.common import sign
    from twostep.bootstrap import build

    config = load_config()
    app = build(config)
    try:
        secret = app.delivered.delivery.outbox.webhook_secret
    finally:
        app.close()
    base = (server or _local_url(config)).rstrip("/")
    body = json.dumps(data).encode()
    headers = {"content-type": "application/json", "x-twostep-signature": sign(secret, body)}
    try:
        answer = httpx.post(base + path, content=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"no Twostep server answers at {base} ({type(exc).__name__}): start it "
            "(twostep serve) or name one with --server"
        ) from exc
    if answer.status_code >= 400:
        try:
            error = answer.json()["error"]
            message = f"[{error['code']}] {error['message']}"
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {answer.status_code}"
        raise click.ClickException(message)
    return answer.text


def _local_url(config: Config) -> str:
    host = config.server.host
    if host in ("0.0.0.0", "", "::"):  # noqa: S104 - compared, not bound
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.server.port}"
