"""``twostep``: serve, and manage tenants, users, methods, keys and the audit log."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from twostep.interfaces.cli import (
    account_commands,
    admin_commands,
    admin_event_commands,
    admin_grant_commands,
    billing_commands,
    db_commands,
    directory_commands,
    enrollment_link_commands,
    gateway_commands,
    method_commands,
    migrate_commands,
    prompt_commands,
    radius_commands,
    report_commands,
    signin_commands,
    token_commands,
)
from twostep.interfaces.cli.common import (
    CONFIG_FILE,
    load_config,
    migrated,
    refuse_control_characters,
    reports_errors,
)

if TYPE_CHECKING:
    from twostep.config import Config


@click.group(help="Twostep: a self-hosted multi-factor authentication server.")
@click.version_option(package_name="twostep")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML file of settings ([storage], [server], [radius], [push]) [$TWOSTEP_CONFIG]. "
    "Environment variables override it.",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    ctx.meta[CONFIG_FILE] = config_file


@cli.command(help="Run the HTTP API (and RADIUS when on), migrating the database first.")
@click.option("--host", default=None, help="Address to listen on [$TWOSTEP_HOST, 127.0.0.1].")
@click.option(
    "--port", type=click.IntRange(1, 65535), help="Port to listen on [$TWOSTEP_PORT, 8080]."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Worker processes [$TWOSTEP_WORKERS, one per core; two on PostgreSQL].",
)
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
@reports_errors
def serve(host: str | None, port: int | None, workers: int | None, access_log: bool) -> None:
    config = load_config(host=host, port=port, workers=workers)
    from twostep.adapters.storage.backup import hold_serving_lock

    # Held for the server's life: `twostep db restore` sees it and refuses.
    hold_serving_lock(config.storage.database_url, lambda: click.echo("waiting for a restore"))
    from twostep.interfaces.http import prefork

    def first_start() -> str:
        app = migrated(config)
        _configure_logs(config)
        key = app.admin.bootstrap_admin_key()
        app.close()
        return key or ""

    # In a child process, so that Alembic and the wiring never load into the supervisor
    # (prefork.apart); again here if it failed there, to report the error as usual.
    key = prefork.apart(first_start)
    if key is None:
        key = first_start()
    _configure_logs(config)  # before the fork: every worker inherits it
    if key:
        click.echo("First start: a global admin API key was created. It is shown only now:")
        click.echo(f"  {key}")
        click.echo("Keep it safe; create more with `twostep keys create`.")
    click.echo(f"Data under {config.storage.home} ({_db_kind(config.storage.database_url)})")
    click.echo(
        f"Twostep listening on http://{config.server.host}:{config.server.port} "
        f"with {config.server.workers} worker(s); API description at /openapi.json"
    )
    if config.radius.enabled:
        _check_radius_port(config.radius.host, config.radius.port)
        click.echo(f"RADIUS listening on udp {config.radius.host}:{config.radius.port}")
    sys.stdout.flush()
    try:
        prefork.serve(config, access_log)
    except OSError as exc:  # the port is taken, or the address is not this host's
        raise click.ClickException(
            f"cannot listen on {config.server.host}:{config.server.port}: {exc.strerror}"
        ) from exc


def _configure_logs(config: Config) -> None:
    """JSON lines, or logfmt on a terminal."""
    from twostep.adapters import logs

    logs.configure(config.server.log_level, config.server.log_format, config.server.node_name)


def _check_radius_port(host: str, port: int) -> None:
    """Bind once without sharing: a taken port fails here, loudly, rather than a second
    server joining the workers' SO_REUSEPORT group and taking part of the requests."""
    from twostep.interfaces.radius.server import bind

    try:
        bind(host, port, reuse_port=False).close()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on udp {host}:{port}: {exc.strerror}") from exc


def _db_kind(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


@cli.group(help="The database schema.")
def db() -> None:
    pass


@db.command(
    "upgrade",
    help="Create the database, or apply its pending named migrations (under a lock that "
    "other nodes wait for). Other commands need it done.",
)
@reports_errors
def db_upgrade() -> None:
    from twostep.adapters.storage import migrate

    app = migrated(load_config())
    click.echo(f"database at revision {migrate.current_revision(app.storage.engine)}")
    app.close()


admin_commands.register(cli)
db_commands.register(db)
account_commands.register(cli)
method_commands.register(cli)
gateway_commands.register(cli)
token_commands.register(cli)
migrate_commands.register(cli)
radius_commands.register(cli)
signin_commands.register(cli)
directory_commands.register(cli)
admin_event_commands.register(cli)
admin_grant_commands.register(cli)
enrollment_link_commands.register(cli)
billing_commands.register(cli)
report_commands.register(cli)
prompt_commands.register(cli)
refuse_control_characters(cli)


def main() -> None:
    cli(prog_name="twostep")


if __name__ == "__main__":
    main()
