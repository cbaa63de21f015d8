"""``twostep methods``: enroll and manage a user's methods from the shell."""

from __future__ import annotations

import time

import click

from twostep.interfaces.cli.choices import MAX_COUNTER, METHOD_KINDS
from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired


def register(cli: click.Group) -> None:
    cli.add_command(methods)


@click.group(help="A user's methods (security info).")
def methods() -> None:
    pass


@methods.command(
    "add",
    help="Enroll a method of kind KIND for the user USER: app_code prints its URI and QR code.",
)
@click.argument("user")
@click.argument("kind", type=click.Choice(METHOD_KINDS))
@click.option("--label", help="A name the user recognises it by.")
@click.option("--serial", help="oath_token: the token's serial number.")
@click.option("--secret", help="oath_token: the seed, base32 (or hex:...).")
@click.option(
    "--otp-type",
    type=click.Choice(["totp", "hotp"]),
    default="totp",
    show_default=True,
    help="oath_token: time-based or counter-based.",
)
@click.option(
    "--algorithm",
    type=click.Choice(["SHA1", "SHA256", "SHA512"]),
    default="SHA1",
    show_default=True,
    help="oath_token: the HMAC hash.",
)
@click.option(
    "--digits",
    type=click.Choice(["6", "8"]),
    default="6",
    show_default=True,
    help="oath_token: code length.",
)
@click.option(
    "--period",
    type=click.Choice(["30", "60"]),
    default="30",
    show_default=True,
    help="oath_token (TOTP): seconds per code.",
)
@click.option(
    "--counter",
    type=click.IntRange(0, MAX_COUNTER),
    default=0,
    help="oath_token (HOTP): the next counter.",
)
@click.option("--phone", help="sms, sms_reply, voice: the number, e.g. +14155550123.")
@click.option("--email", help="email: the address codes are sent to.")
@click.option(
    "--with-pin",
    is_flag=True,
    help="voice: ask (hidden) for a 4-8 digit PIN the user enters before #.",
)
@tenant_option
@admin_change("method.enroll")
def methods_add(
    user: str,
    kind: str,
    label: str | None,
    serial: str | None,
    secret: str | None,
    otp_type: str,
    algorithm: str,
    digits: str,
    period: str,
    counter: int,
    phone: str | None,
    email: str | None,
    with_pin: bool,
    tenant: str,
) -> None:
    from twostep.domain.entities import MethodKind
    from twostep.factors import registry
    from twostep.interfaces import qr
    from twostep.services.admin import OPERATOR

    spec = registry.kind(MethodKind(kind))
    assert spec.fields is not None
    given = {
        "label": label,
        "serial": serial,
        "secret": secret,
        "otp_type": otp_type,
        "algorithm": algorithm,
        "digits": int(digits),
        "period": int(period),
        "counter": counter,
        "phone": phone,
        "email": email,
    }
    # The options this kind takes (the others keep their defaults unsaid); a missing one
    # is the kind's own refusal, naming it.
    values = {k: v for k, v in given.items() if k in spec.fields.model_fields and v is not None}
    if with_pin:
        if "pin" not in spec.fields.model_fields:
            raise click.UsageError(f"{kind} takes no PIN")
        # Prompted, not an argument: a PIN must not land in the shell's history.
        values["pin"] = click.prompt("PIN", hide_input=True, confirmation_prompt=True)
    done = wired().enroll.enroll(OPERATOR, tenant, user, spec.kind, values)
    method, uri = done.method, done.shown.get("otpauth_uri")
    if uri is not None:
        click.echo(qr.terminal(uri))
        click.echo(uri)
        click.echo(f"method {method.id} is pending: confirm it with a code:")
        click.echo(f"  twostep methods confirm {user} {method.id} CODE")
        return
    where = _destination(method.phone, method.email) or method.serial or ""
    click.echo(f"{kind} {where} registered for {user} as method {method.id}".replace("  ", " "))


def _destination(phone: str | None, email: str | None) -> str | None:
    """The number or address, masked as the sign-in shows it."""
    from twostep.domain.phone import mask_phone
    from twostep.factors.email import mask_address

    if phone:
        return f"to {mask_phone(phone)}"
    return f"to {mask_address(email)}" if email else None


@methods.command(
    "confirm", help="Activate the pending method METHOD_ID of USER with a CODE it shows."
)
@click.argument("user")
@click.argument("method_id")
@click.argument("code")
@tenant_option
@admin_change("method.confirm")
def methods_confirm(user: str, method_id: str, code: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().enroll.confirm(OPERATOR, tenant, user, method_id, code)
    click.echo(f"method {method_id} is active")


@methods.command("list", help="List the methods of the user USER (* marks the default).")
@click.argument("user")
@tenant_option
@reports_errors
def methods_list(user: str, tenant: str) -> None:
    from twostep.interfaces.cli.validity import validity
    from twostep.services.admin import OPERATOR

    app = wired()
    default = app.admin.get_user(OPERATOR, tenant, user).default_method_id
    now = time.time()
    rows = [
        {
            "id": m.id,
            "kind": m.kind.value,
            "status": m.status.value,
            "serial": m.serial,
            "label": m.label,
            "valid": validity(m.valid_from, m.valid_until, now),
            "default": "*" if m.id == default else "",
        }
        for m in app.enroll.list(OPERATOR, tenant, user)
    ]
    click.echo(table(rows, ["id", "kind", "status", "serial", "label", "valid", "default"]))


@methods.command("default", help="Make METHOD_ID the default method of USER.")
@click.argument("user")
@click.argument("method_id")
@tenant_option
@admin_change("method.default")
def methods_default(user: str, method_id: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().enroll.set_default(OPERATOR, tenant, user, method_id)
    click.echo(f"method {method_id} is now the default")


@methods.command("delete", help="Delete the method METHOD_ID of USER.")
@click.argument("user")
@click.argument("method_id")
@tenant_option
@admin_change("method.delete")
def methods_delete(user: str, method_id: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().enroll.delete(OPERATOR, tenant, user, method_id)
    click.echo(f"method {method_id} deleted")


@methods.command(
    "resync",
    help="Resynchronise the drifted token METHOD_ID of USER from two consecutive codes, "
    "FIRST_CODE then SECOND_CODE.",
)
@click.argument("user")
@click.argument("method_id")
@click.argument("first_code")
@click.argument("second_code")
@tenant_option
@admin_change("method.resync")
def methods_resync(
    user: str, method_id: str, first_code: str, second_code: str, tenant: str
) -> None:
    from twostep.services.admin import OPERATOR

    wired().enroll.resync(OPERATOR, tenant, user, method_id, first_code, second_code)
    click.echo(f"method {method_id} resynchronised")
