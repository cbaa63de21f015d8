"""``twostep-authenticator``: activate, list, code, watch, remove."""

from __future__ import annotations

import functools
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

import click
import httpx

from twostep.authenticator import codes, uri
from twostep.authenticator.client import DeviceClient
from twostep.authenticator.errors import AuthenticatorError, DeviceApiError
from twostep.authenticator.keystore import Account, Keystore, default_home, select
from twostep.authenticator.model import Decision, push_channel
from twostep.authenticator.signing import DeviceKey, KeyType
from twostep.authenticator.watch import Plan, Watcher

P = ParamSpec("P")
R = TypeVar("R")

CLOCK_SKEW_WARNING = 30  # seconds; the server refuses signed calls beyond 60


@dataclass(frozen=True)
class Runtime:
    """What the commands run against; a test hands its own in as ``obj``."""

    home: Path | None = None
    transport: httpx.BaseTransport | None = None
    clock: Callable[[], float] = time.time

    def keystore(self) -> Keystore:
        return Keystore(self.home)

    def client(self, account: Account | None = None, base_url: str = "") -> DeviceClient:
        if account is None:
            return DeviceClient(base_url, transport=self.transport, clock=self.clock)
        return DeviceClient(
            account.server,
            device_id=account.device_id,
            key=account.key(),
            transport=self.transport,
            clock=self.clock,
        )


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Every authenticator error ends the command with ``Error: <message>`` and status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DeviceApiError as exc:
            hint = " (check this computer's clock)" if exc.code == "unauthenticated" else ""
            raise click.ClickException(f"{exc}{hint}") from exc
        except AuthenticatorError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def runtime() -> Runtime:
    obj = click.get_current_context().find_object(Runtime)
    return obj if obj is not None else Runtime()


@click.group(
    name="twostep-authenticator",
    help="The Twostep reference authenticator: activate accounts, show offline codes, "
    "approve or deny sign-in requests.",
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of the accounts file [$TWOSTEP_AUTHENTICATOR_HOME, else "
    "$XDG_CONFIG_HOME/twostep-authenticator, else ~/.config/twostep-authenticator].",
)
@click.version_option(package_name="twostep")
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    base = ctx.obj if isinstance(ctx.obj, Runtime) else Runtime()
    ctx.obj = replace(base, home=home or base.home or default_home())


@main.command(help="Activate an account: URL CODE, or the QR code's twostep:// text.")
@click.argument("url")
@click.argument("code", required=False)
@click.option("--name", default=None, help="This device's name, as admins see it [host name].")
@click.option(
    "--key-type",
    type=click.Choice([k.value for k in KeyType]),
    default=KeyType.ED25519.value,
    show_default=True,
    help="The device key pair to generate.",
)
@click.option(
    "--push",
    type=click.Choice(["pull", "ntfy", "fcm"]),
    default="pull",
    show_default=True,
    help="How the server notifies this device; requests are always fetched by long-poll.",
)
@click.option("--push-target", default=None, help="ntfy: the topic URL; fcm: the token.")
@reports_errors
def activate(
    url: str, code: str | None, name: str | None, key_type: str, push: str, push_target: str | None
) -> None:
    target = uri.parse(url, code)
    try:
        channel = push_channel(push, push_target)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    rt = runtime()
    keystore = rt.keystore()
    keystore.prepare()  # a key the server knows but this device lost would be no use
    _warn_plain_http(target.base_url)
    key = DeviceKey.generate(KeyType(key_type))
    device_name = name or socket.gethostname()
    with rt.client(base_url=target.base_url) as client:
        done = client.activate(
            target.code,
            key,
            name=device_name,
            push=channel,
            activation_url=target.activation_url,
        )
    account = Account(
        server=target.base_url,
        device_id=done.device_id,
        tenant=done.tenant,
        user=done.user,
        issuer=done.issuer,
        key_type=key.key_type,
        private_key=key.to_pem(),
        totp=done.totp,
        name=device_name,
        push=push,
        created_at=rt.clock(),
    )
    keystore.add(account)
    click.echo(f"Activated {account.label} ({account.issuer}) on {account.server}")
    click.echo(f"  device id: {account.device_id}")
    click.echo(f"  keys in:   {keystore.path}")
    click.echo(f"Offline codes:    twostep-authenticator code {account.device_id}")
    click.echo(f"Sign-in requests: twostep-authenticator watch {account.device_id}")
    if done.server_time is not None and abs(done.server_time - rt.clock()) > CLOCK_SKEW_WARNING:
        click.echo(
            f"warning: this computer's clock is {done.server_time - rt.clock():+.0f} s off the "
            "server's; signed requests and codes fail beyond 60 s",
            err=True,
        )


@main.command(name="list", help="List the activated accounts.")
@reports_errors
def list_accounts() -> None:
    accounts = runtime().keystore().load()
    if not accounts:
        click.echo("No accounts. Activate one with `twostep-authenticator activate URL CODE`.")
        return
    rows = [("ISSUER", "USER", "TENANT", "DEVICE", "SERVER")]
    rows += [(a.issuer, a.user, a.tenant, a.device_id, a.server) for a in accounts]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


@main.command(
    name="code",
    help="Show the current offline codes of all accounts, or of ACCOUNT "
    "(a device id or user@tenant).",
)
@click.argument("account", required=False)
@click.option("--plain", is_flag=True, help="Print only the code of the one account.")
@reports_errors
def show_code(account: str | None, plain: bool) -> None:
    rt = runtime()
    accounts = rt.keystore().load()
    chosen = [select(accounts, account)] if account or plain or not accounts else accounts
    now = rt.clock()
    for item in chosen:
        current = codes.current(item.totp, now)
        if plain:
            click.echo(current.code)
        else:
            click.echo(
                f"{current.code}  ({current.seconds_left:2d} s left)  "
                f"{item.issuer}: {item.label}  [{item.device_id}]"
            )


@main.command(
    help="Wait for sign-in requests and approve, deny or report them. ACCOUNT is a "
    "device id or user@tenant; with a single account it may be left out.",
)
@click.argument("account", required=False)
@click.option(
    "--approve-with-number",
    "number",
    type=click.IntRange(min=0),
    default=None,
    help="Approve every request with this number (the one on the sign-in page).",
)
@click.option("--deny", is_flag=True, help="Deny every request.")
@click.option("--fraud", is_flag=True, help="Report every request as fraud.")
@click.option("--once", is_flag=True, help="Handle one request, then exit.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop after this many seconds in all [never].",
)
@reports_errors
def watch(
    account: str | None,
    number: int | None,
    deny: bool,
    fraud: bool,
    once: bool,
    timeout: float | None,
) -> None:
    if sum((number is not None, deny, fraud)) > 1:
        raise click.UsageError("give at most one of --approve-with-number, --deny and --fraud")
    decision = None
    if number is not None:
        decision = Decision.APPROVE
    elif deny or fraud:
        decision = Decision.DENY if deny else Decision.FRAUD
    rt = runtime()
    chosen = rt.keystore().select(account)
    plan = Plan(decision=decision, number=number, once=once, timeout=timeout)
    with rt.client(chosen) as client:
        status = Watcher(client, chosen, plan, now=rt.clock).run()
    if status:
        raise SystemExit(status)


@main.command(
    help="Remove an account (its keys and offline codes) from this device. ACCOUNT is a "
    "device id or user@tenant; with a single account it may be left out.",
)
@click.argument("account", required=False)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@reports_errors
def remove(account: str | None, yes: bool) -> None:
    keystore = runtime().keystore()
    chosen = keystore.select(account)
    if not yes:
        click.confirm(
            f"Remove {chosen.label} ({chosen.issuer}, device {chosen.device_id})? "
            "Its offline codes stop working here",
            abort=True,
        )
    keystore.remove(chosen.device_id)
    click.echo(f"Removed {chosen.label} (device {chosen.device_id}).")
    click.echo("The server lists the device until an administrator deactivates it.")


def _warn_plain_http(base_url: str) -> None:
    parts = urlsplit(base_url)
    if parts.scheme != "http" or _is_loopback(parts.hostname or ""):
        return
    click.echo(f"warning: {base_url} is plain http: nothing protects the activation", err=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    main()
