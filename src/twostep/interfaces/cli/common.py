"""Shared CLI plumbing: the wired app, and errors turned into one-line messages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import click

from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.errors import TwostepError
from twostep.domain.text import first_refused

P = ParamSpec("P")
R = TypeVar("R")


def wired(upgrade: bool = True) -> App:
    """The app over the environment's config, migrated, with the ``default`` tenant."""
    app = build(Config.from_env(), upgrade=upgrade)
    app.admin.ensure_default_tenant()
    return app


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """A Twostep error ends the command with ``error [code]: message`` and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except TwostepError as exc:
            raise click.ClickException(f"[{exc.code}] {exc.message}") from exc

    return wrapper


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
