"""The one input rule for text that is stored or looked up: no control characters.

Every edge (HTTP bodies, path and query parameters, RADIUS attributes, CLI arguments)
applies it before a value reaches a service, so both databases see the same text and a
NUL can never reach PostgreSQL (which refuses it) nor be stored silently by SQLite.
Refused: Unicode control characters (category Cc: C0, DEL, C1 such as U+0085) and lone
surrogates (Cs), which no database stores as UTF-8. Identifiers (user names) have a
stricter rule of their own on top of this one.
"""

from __future__ import annotations

import unicodedata

from twostep.domain.errors import ControlCharacter

_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


def first_refused(value: str) -> int | None:
    """The index of the first control character or lone surrogate in ``value``, or None."""
    if value.isascii():  # the common case, without a per-character lookup
        for index, char in enumerate(value):
            if char < " " or char == "\x7f":
                return index
        return None
    for index, char in enumerate(value):
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return index
    return None


def has_control(value: str) -> bool:
    return first_refused(value) is not None


def check_text(value: str, field: str) -> str:
    """``value`` unchanged, or ``ControlCharacter`` naming ``field`` and the character's
    position (never the value itself: it may be a code or a password)."""
    index = first_refused(value)
    if index is not None:
        raise ControlCharacter(
            f"{field} holds a control character (U+{ord(value[index]):04X} at position "
            f"{index}); control characters are not accepted",
            field=field,
        )
    return value


def printable_escape(value: str, limit: int = 256) -> str:
    """``value`` with control characters written as ``\\xNN``/``\\uNNNN`` escapes, for the
    audit log and log lines that must record what was refused without storing it."""
    out = []
    for char in value[:limit]:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)[:limit]
