"""The method kinds' titles for the catalogs. Each kind's title is declared once, in its
factor module (factors/*.py, ``Kind.title``); this Babel extractor (babel.cfg's
``[extractors]``) puts every one in messages.pot, so a new kind's name appears on the pages
by itself and the catalog test fails until it has its Korean translation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from twostep.factors import registry


def extract(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel's extractor interface; the file (factors/registry.py) is the trigger only:
    the titles come from the registry itself, as the pages read them."""
    for declared in registry.KINDS.values():
        yield 1, None, declared.title, []
