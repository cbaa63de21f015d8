"""Shared CLI plumbing: the wired app, and errors turned into one-line messages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import click

from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.errors import TwostepError

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


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)
