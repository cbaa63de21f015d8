"""A token's validity period as the CLI's tables show it."""

from __future__ import annotations

import datetime


def _day(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d")


def validity(valid_from: float | None, valid_until: float | None, now: float) -> str:
    """``until 2027-01-31``, ``from 2026-01-01``, ``EXPIRED 2022-09-01`` or empty."""
    if valid_until is not None and valid_until <= now:
        return f"EXPIRED {_day(valid_until)}"
    if valid_from is not None and now < valid_from:
        until = f" until {_day(valid_until)}" if valid_until is not None else ""
        return f"from {_day(valid_from)}{until}"
    if valid_until is not None:
        return f"until {_day(valid_until)}"
    return ""
