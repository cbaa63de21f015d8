"""The settings' help texts for the catalogs. Each setting's help is its ``description`` in
domain/settings.py; this Babel extractor (babel.cfg's ``[extractors]``) puts every one in
messages.pot, so a new setting's help appears on the settings page by itself and the
catalog test fails until it has its Korean translation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from twostep.domain.settings import TenantSettings, flat_schema


def sections() -> list[tuple[str, list[str]]]:
    """Each section of the settings model with its settings' flat keys, in order (the
    tenant's ``issuer`` stands alone, first)."""
    found = [("general", ["issuer"])]
    for name, info in TenantSettings.model_fields.items():
        model = info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            found.append((name, list(model.model_fields)))
    return found


def properties() -> dict[str, dict[str, Any]]:
    """Each flat key's JSON Schema: type, range, choices, default, description."""
    return dict(flat_schema()["properties"])


def extract(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel's extractor interface; the file (domain/settings.py) is the trigger only:
    the texts come from the model itself, as the page reads them."""
    for prop in properties().values():
        description = prop.get("description")
        if description:
            yield 1, None, description, []
