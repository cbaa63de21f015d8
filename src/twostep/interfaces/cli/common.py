"""Shared CLI plumbing: the configuration, the wired app, and errors as one-line messages.

Import nothing heavy here or in the command modules: ``--help`` must answer at once, so
the services, SQLAlchemy and the settings' pydantic models are imported by the commands
that run (a test keeps them out of ``import twostep.interfaces.cli.main``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from twostep.domain.errors import TwostepError
from twostep.domain.text import first_refused
from twostep.interfaces.cli.choices import DEFAULT_TENANT

if TYPE_CHECKING:
    from twostep.bootstrap import App
    from twostep.config import Config

P = ParamSpec("P")
R = TypeVar("R")

CONFIG_FILE = "twostep.config_file"  # where the group's --config lands in ctx.meta
WIRED = "twostep.app"  # the command's wired app, in ctx.meta (a refusal is recorded through it)

tenant_option = click.option(
    "--tenant", default=DEFAULT_TENANT, show_default=True, help="The tenant to work in."
)


def load_config(**server_flags: object) -> Config:
    """The settings: ``server_flags`` (serve's --host, --port, --workers) over the
    environment over the TOML file (``twostep --config``, else TWOSTEP_CONFIG)."""
    from twostep.config import Config

    ctx = click.get_current_context(silent=True)
    file: Path | None = ctx.meta.get(CONFIG_FILE) if ctx is not None else None
    return Config.load(file=file, flags={"server": server_flags})


def wired() -> App:
    """The app over the configuration, when the database's schema is this version's:
    commands never migrate (only `db upgrade` and `serve` do, under the migration lock)."""
    from twostep.bootstrap import build

    config = load_config()
    require_current_schema(config)
    app = build(config)
    app.admin.ensure_default_tenant()
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[WIRED] = app
        # Closed when the command ends, however it ends: its pool, its file lock, its
        # directory connections (a command run in-process must not leave them behind).
        ctx.call_on_close(app.close)
    return app


def migrated(config: Config) -> App:
    """The app over ``config``, its database migrated first (`db upgrade`, `serve`)."""
    from twostep.bootstrap import build

    app = build(config, upgrade=True)
    app.admin.ensure_default_tenant()
    return app


def require_current_schema(config: Config) -> None:
    """Stop, creating nothing, unless the database exists at this version's revision."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from twostep.adapters.storage import migrate
    from twostep.adapters.storage.engine import make_engine

    url = make_url(config.storage.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        raise click.ClickException(
            f"no database at {url.database} yet: create it with `twostep db upgrade` "
            "(`twostep serve` does too)"
        )
    engine = make_engine(config.storage.database_url, pool_size=1)
    try:
        current = migrate.current_revision(engine)
    except DBAPIError as exc:
        raise click.ClickException(f"cannot open the database: {exc.orig}") from exc
    finally:
        engine.dispose()
    head = migrate.head_revision()
    if current == head:
        return
    if current is None:
        problem = "has no schema yet"
    elif migrate.is_known(current):
        problem = f"is at revision {current}, and this version needs {head}"
    else:
        raise click.ClickException(
            f"the database is at revision {current}, which this version of Twostep does not "
            f"know (its newest is {head}): run the version that migrated it"
        )
    raise click.ClickException(f"the database {problem}: run `twostep db upgrade`")


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """A Twostep error ends the command with ``Error: [code] message`` and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except TwostepError as exc:
            raise click.ClickException(f"[{exc.code}] {exc.message}") from exc

    return wrapper


# The arguments that name a command's target, in the order the command declares them:
# never a code, a password, a value or a file.
_TARGET_ARGS = ("user", "name", "serial", "method_id", "key_id", "setting")
# Each mutating command's callback and the actions it records (tests walk them).
ACTIONS: dict[Callable[..., Any], tuple[str, ...]] = {}


def admin_change(action: str, **if_flag: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A command that changes something: its service records ``action`` in the admin
    trail; a Twostep error ends it like ``reports_errors``, after one admin event records
    the refusal (the error's code as its result). ``if_flag`` names the action of a flag
    that turns the command into another change (``clear="password.clear"``)."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def recorded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except TwostepError as exc:
                chosen = next((a for flag, a in if_flag.items() if kwargs.get(flag)), action)
                _record_refusal(chosen, kwargs, exc.code)
                raise

        wrapper = reports_errors(recorded)
        ACTIONS[wrapper] = (action, *if_flag.values())
        return wrapper

    return decorate


def _record_refusal(action: str, kwargs: dict[str, Any], code: str) -> None:
    from twostep.services import admin_log
    from twostep.services.admin import OPERATOR

    ctx = click.get_current_context(silent=True)
    named = [str(kwargs[k]) for k in kwargs if k in _TARGET_ARGS and kwargs[k] is not None]
    tenant = kwargs.get("tenant")
    try:
        app: App = (ctx.meta.get(WIRED) if ctx is not None else None) or wired()
        admin_log.refused(
            app.deps,
            OPERATOR,
            tenant if isinstance(tenant, str) else None,
            action,
            "/".join(named) or None,
            code,
        )
    except Exception as exc:  # the refusal itself is what the operator must see
        click.echo(f"warning: the admin trail did not record this refusal: {exc}", err=True)


class Text(click.ParamType[str]):
    """A text argument or option under the one input rule (domain/text.py): a control
    character is a usage error (exit 2) before the command runs, never a traceback."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        index = first_refused(text)
        if index is not None:
            self.fail(
                f"control characters are not accepted (U+{ord(text[index]):04X} at position "
                f"{index})",
                param,
                ctx,
            )
        return text


TEXT = Text()


def refuse_control_characters(group: click.Group) -> None:
    """Give every plain text parameter of every command the ``TEXT`` type, so a command
    added later cannot forget it (choices, paths and files keep their own types)."""
    stack: list[click.Command] = [group]
    while stack:
        command = stack.pop()
        for param in command.params:
            if param.type is click.STRING:
                param.type = TEXT
        if isinstance(command, click.Group):
            stack.extend(command.commands.values())


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)
