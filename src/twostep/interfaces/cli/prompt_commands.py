"""``twostep voice-prompts``: a tenant's recorded call prompts (upload, list, delete), and
``twostep users remembered-devices`` / ``users forget-devices``: a user's remembered
browsers (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from twostep.domain.voice_prompts import MAX_BYTES, PROMPTS
from twostep.interfaces.cli.common import admin_change, reports_errors, table, tenant_option, wired


def register(cli: click.Group) -> None:
    cli.add_command(voice_prompts)
    users = cli.commands["users"]
    assert isinstance(users, click.Group)
    users.add_command(users_remembered_devices)
    users.add_command(users_forget_devices)


def _when(at: float | None) -> str:
    if at is None:
        return ""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M")


@click.group("voice-prompts", help="A tenant's recordings played in calls instead of speech.")
def voice_prompts() -> None:
    pass


@voice_prompts.command(
    "upload",
    help="Play FILE (.wav or .mp3, at most 1 MB, under 20 s) for PROMPT to users of "
    f"LANGUAGE (en, de, ...). PROMPT is one of: {', '.join(PROMPTS)}.",
)
@click.argument("language")
@click.argument("prompt", type=click.Choice(PROMPTS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@tenant_option
@admin_change("voice_prompt.upload")
def prompts_upload(language: str, prompt: str, file: Path, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    with file.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    stored = wired().voice_prompts.upload(OPERATOR, tenant, language, prompt, file.name, data)
    click.echo(
        f"{stored.language}/{stored.prompt}: {stored.media_type}, {stored.seconds:.1f} s, "
        f"{stored.size} bytes"
    )


@voice_prompts.command("list", help="The tenant's recordings.")
@tenant_option
@reports_errors
def prompts_list(tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    rows = [
        {
            "language": p.language,
            "prompt": p.prompt,
            "type": p.media_type,
            "seconds": f"{p.seconds:.1f}",
            "bytes": p.size,
            "uploaded": _when(p.created_at),
        }
        for p in wired().voice_prompts.list(OPERATOR, tenant)
    ]
    click.echo(table(rows, ["language", "prompt", "type", "seconds", "bytes", "uploaded"]))


@voice_prompts.command("delete", help="Speak PROMPT in LANGUAGE again (delete its recording).")
@click.argument("language")
@click.argument("prompt", type=click.Choice(PROMPTS))
@tenant_option
@admin_change("voice_prompt.delete")
def prompts_delete(language: str, prompt: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    wired().voice_prompts.delete(OPERATOR, tenant, language, prompt)
    click.echo(f"{language}/{prompt} deleted")


@click.command("remembered-devices", help="The browsers USER had remembered at the pages.")
@click.argument("user")
@tenant_option
@reports_errors
def users_remembered_devices(user: str, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    rows = [
        {
            "id": d.id,
            "page": d.page,
            "browser": d.label,
            "created": _when(d.created_at),
            "expires": _when(d.expires_at),
            "last_used": _when(d.last_used_at),
        }
        for d in wired().remembered.list_for(OPERATOR, tenant, user)
    ]
    click.echo(table(rows, ["id", "page", "browser", "created", "expires", "last_used"]))


@click.command(
    "forget-devices",
    help="Revoke USER's remembered browsers (or only --device ID): the pages ask for the "
    "second factor again.",
)
@click.argument("user")
@click.option("--device", "device_id", default=None, help="Only this remembered browser.")
@tenant_option
@admin_change("remembered_device.revoke")
def users_forget_devices(user: str, device_id: str | None, tenant: str) -> None:
    from twostep.services.admin import OPERATOR

    gone = wired().remembered.revoke(OPERATOR, tenant, user, device_id)
    click.echo(f"user {user}: {gone} remembered browser(s) revoked")
