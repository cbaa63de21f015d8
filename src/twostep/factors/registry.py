"""Every method kind, registered once: a new kind is one module and one line below.

The rest of Twostep asks the registry (by kind, by a word a user typed, by family)
instead of naming kinds.
"""

from __future__ import annotations

from collections.abc import Sequence

from twostep.domain.entities import MethodKind
from twostep.factors import app_code, app_push, email, oath_token, sms, sms_reply, voice
from twostep.factors.base import Family, Kind

_REGISTERED: tuple[Kind, ...] = (
    app_code.KIND,
    oath_token.KIND,
    app_push.KIND,
    sms.KIND,
    sms_reply.KIND,
    voice.KIND,
    email.KIND,
)

KINDS: dict[MethodKind, Kind] = {k.kind: k for k in _REGISTERED}
_WORDS: dict[str, Kind] = {word: k for k in _REGISTERED for word in k.words}
assert len(KINDS) == len(_REGISTERED), "a kind registered twice"
assert len(_WORDS) == sum(len(k.words) for k in _REGISTERED), "a word picks two kinds"


def kind(of: MethodKind) -> Kind:
    return KINDS[of]


def by_word(typed: str) -> Kind | None:
    """The kind a user picks by typing its name or a word for it (``text``, ``call``)."""
    return _WORDS.get(typed.strip().lower())


def enrollable() -> Sequence[Kind]:
    """Kinds an admin enrolls with fields (app_push comes with a device's activation)."""
    return [k for k in _REGISTERED if k.fields is not None]


def of_family(family: Family) -> Sequence[Kind]:
    return [k for k in _REGISTERED if k.family is family]
