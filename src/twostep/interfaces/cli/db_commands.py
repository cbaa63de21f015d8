"""``twostep db backup`` and ``twostep db restore``: SQLite through its online backup API;
PostgreSQL through its own tools (pg_dump, pg_restore), which these commands name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from twostep.interfaces.cli.common import admin_change, load_config

if TYPE_CHECKING:
    from twostep.bootstrap import App
    from twostep.config import Config

PG_BACKUP = (
    "the database is PostgreSQL: back it up with its own tool, e.g. "
    "`pg_dump --format=custom --file=twostep.dump '{url}'` (see the operator guide, "
    "Backups and restore), and keep the secret key apart from the dump"
)
PG_RESTORE = (
    "the database is PostgreSQL: restore a dump with its own tool, e.g. "
    "`pg_restore --clean --if-exists --no-owner --dbname='{url}' twostep.dump` with every "
    "server stopped, then `twostep db upgrade` (see the operator guide, Backups and restore)"
)

WRONG_KEY = (
    "Nothing was restored: a backup opens only with the secret key that was current when it "
    "was taken; set it (TWOSTEP_SECRET_KEY, or $TWOSTEP_HOME/secret.key) and restore again"
)


def register(db: click.Group) -> None:
    db.add_command(db_backup)
    db.add_command(db_restore)


def _pg_url(config: Config) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(config.storage.database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=True)


@click.command(
    "backup",
    help="Write a consistent copy of the SQLite database to FILE (mode 0600) while the "
    "server runs. The secret key is not in it: keep the key apart (see the operator guide). "
    "On PostgreSQL, use pg_dump.",
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@admin_change("database.backup")
def db_backup(file: Path, force: bool) -> None:
    from twostep.adapters.storage import backup
    from twostep.services.admin import OPERATOR
    from twostep.services.backups import backed_up

    config = load_config()
    if backup.sqlite_path(config.storage.database_url) is None:
        raise click.ClickException(PG_BACKUP.format(url=_pg_url(config)))
    try:
        copied = backup.backup(config.storage.database_url, file, force=force)
    except backup.BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot back up: {exc.filename}: {exc.strerror}") from exc
    click.echo(f"backup written to {copied.path} ({copied.size} bytes, revision {copied.revision})")
    app = _current_app()
    if app is None:
        click.echo("(not recorded in the admin trail: the database's schema is not current)")
        return
    try:
        backed_up(app.deps, OPERATOR, str(copied.path), copied.revision)
    finally:
        app.close()


def _current_app() -> App | None:
    from twostep.interfaces.cli.common import wired

    try:
        return wired()
    except click.ClickException:
        return None


@click.command(
    "restore",
    help="Replace the SQLite database with the backup FILE, in one transaction. FILE must be "
    "a Twostep database of this version or an older one (upgraded after the restore). Its "
    "secrets must open with the configured secret key. Refused while a server runs on the "
    "database unless --force. On PostgreSQL, use pg_restore.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force", is_flag=True, help="Restore even though a server seems to run on the database."
)
@admin_change("database.restore")
def db_restore(file: Path, force: bool) -> None:
    from twostep.adapters.storage import backup, migrate

    config = load_config()
    database = backup.sqlite_path(config.storage.database_url)
    if database is None:
        raise click.ClickException(PG_RESTORE.format(url=_pg_url(config)))
    try:
        if file.resolve() == database:
            raise backup.BackupRefused(f"{file} is the database itself")
        revision = backup.revision_of(file)
        if not migrate.is_known(revision):
            raise backup.BackupRefused(
                f"{file} is at revision {revision}, which this version of Twostep does not "
                f"know (its newest is {migrate.head_revision()}): restore it with the "
                "version that wrote it"
            )
        for directory in (config.storage.home, database.parent):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with backup.no_server(database, force=force) as server_seen:
            staging = backup.staged(file, database)
            try:
                head, count = _check_and_record(_over(config, staging), file.name, revision)
                backup.replace_with(database, staging)
            finally:
                backup.discard(staging)
    except backup.BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:  # the home cannot be made, a lock file cannot be opened
        raise click.ClickException(f"cannot restore: {exc.filename}: {exc.strerror}") from exc
    upgraded = f", upgraded to {head}" if head != revision else ""
    click.echo(f"restored {file} (revision {revision}{upgraded}) into {database}")
    click.echo(f"{count} stored secret(s) open with the configured secret key")
    if server_seen:
        click.echo("a server was running: restart it, so no cached state outlives the restore")


def _check_and_record(staged: Config, name: str, revision: str) -> tuple[str, int]:
    """Upgrade the staged copy, open its secrets with this key and record the restore in
    its trail, before it replaces anything: its revision now, and the secrets opened."""
    from twostep.adapters.storage import migrate
    from twostep.bootstrap import build
    from twostep.domain.errors import SecretKeyError
    from twostep.services.admin import OPERATOR
    from twostep.services.backups import restored

    try:
        app = build(staged, upgrade=True)
        try:
            head = migrate.current_revision(app.storage.engine) or revision
            return head, restored(app.deps, OPERATOR, name, revision, head)
        finally:
            app.close()
    except SecretKeyError as exc:
        raise SecretKeyError(f"{exc.message}. {WRONG_KEY}") from exc


def _over(config: Config, staging: Path) -> Config:
    storage = config.storage.model_copy(update={"database_url": f"sqlite:///{staging}"})
    return config.model_copy(update={"storage": storage})
