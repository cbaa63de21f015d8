"""The catalogs are complete: every translatable string of the pages (templates and Python,
extracted as ``make messages`` does) is in messages.pot and in the en and ko catalogs,
translated in ko with the same placeholders; no catalog keeps a string nobody uses."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from twostep.interfaces.web import i18n

ROOT = Path(__file__).resolve().parents[4]
LOCALE = ROOT / "src" / "twostep" / "interfaces" / "web" / "locale"


@cache
def extracted() -> frozenset[str]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return frozenset(found)


def catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def ids(found: Catalog) -> set[str]:
    return {str(m.id) for m in found if m.id}


def test_the_extraction_finds_the_strings_of_templates_and_python() -> None:
    assert "Skip to the main content" in extracted()  # base.html
    assert "Code from an authenticator app" in extracted()  # texts.py (N_)
    assert len(extracted()) > 40


def test_the_template_is_current() -> None:
    assert ids(catalog(LOCALE / "messages.pot")) == extracted()


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_no_string_is_missing_or_stale(language: str) -> None:
    found = ids(catalog(LOCALE / language / "LC_MESSAGES" / "messages.po", language))
    assert sorted(extracted() - found) == [], "missing: run make messages"
    assert sorted(found - extracted()) == [], "stale: run make messages"


def test_every_korean_string_is_translated_with_its_placeholders() -> None:
    ko = catalog(LOCALE / "ko" / "LC_MESSAGES" / "messages.po", "ko")
    untranslated = [m.id for m in ko if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []
    problems = [(message.id, errors) for message, errors in ko.check() if errors]
    assert problems == []
    korean = [m for m in ko if m.id and any("\uac00" <= c <= "\ud7a3" for c in m.string)]
    assert len(korean) == len([m for m in ko if m.id])  # written in Hangul, not copied


def test_the_compiled_catalog_translates() -> None:
    assert i18n.translations("ko").gettext("Sign out") == "로그아웃"
    assert i18n.translations("en").gettext("Sign out") == "Sign out"
