"""Languages: the gettext catalogs (``locale/<lang>/LC_MESSAGES/messages.po``), compiled in
memory with Babel when the pages are installed, and the choice of a request's language.

The .po files are the only form kept: no compiled .mo to fall out of step with its source
and no build step (compiling both catalogs takes milliseconds at start-up).

The language of a request, strongest first: a signed-in user's own ``language`` setting,
then the language switch's cookie, then the browser's ``Accept-Language`` (Babel's
negotiation), then English.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("en", "ko")  # the first is the default
DEFAULT = LANGUAGES[0]
LANGUAGE_COOKIE = "twostep_lang"
_MAX_HEADER = 512  # an Accept-Language longer than this is read up to here
_MAX_RANGES = 16


def names() -> dict[str, str]:
    """Each language in its own words, for the switch."""
    return {code: Locale.parse(code).get_display_name(code) or code for code in LANGUAGES}


@cache
def translations(language: str) -> Translations:
    """The language's catalog, compiled from its .po file."""
    source = resources.files(__package__) / "locale" / language / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def supported(language: str | None) -> str | None:
    """The supported language ``language`` names (``ko-KR`` is ``ko``), or None."""
    if not language:
        return None
    return negotiate_locale([language.replace("_", "-")], list(LANGUAGES), sep="-")


def from_header(header: str | None) -> str | None:
    """The best supported language of an Accept-Language header, by its weights."""
    ranges: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "")[:_MAX_HEADER].split(",")[:_MAX_RANGES]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                continue
        if tag and tag != "*" and weight > 0:
            ranges.append((-weight, position, tag.strip()))
    preferred = [tag for _weight, _position, tag in sorted(ranges)]
    return negotiate_locale(preferred, list(LANGUAGES), sep="-") if preferred else None


def choose(user_language: str | None, cookie: str | None, header: str | None) -> str:
    """The language to answer in (see the module's docstring)."""
    return supported(user_language) or supported(cookie) or from_header(header) or DEFAULT
