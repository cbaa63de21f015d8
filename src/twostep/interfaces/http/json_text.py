"""The text rule (domain/text.py) for JSON bodies: one walk over the parsed body, before
the fields are validated, so every string (keys included, at any depth, in fields typed
``Any`` too) is checked once, and a new field cannot forget it.

The same walk refuses what JSON has no place for: NaN and infinities (Python's parser takes
them; neither database nor the answer's encoder does), and nesting deeper than any body of
this API needs (storing or answering a deeper one would exhaust the recursion limit).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from twostep.domain.text import first_refused

MAX_DEPTH = 16

Loc = tuple[int | str, ...]


def _problem(value: Any) -> tuple[str, str] | None:
    """The error type and message for one scalar, or None when it is fine."""
    if isinstance(value, str):
        # isprintable() is C-fast and true for ordinary text; first_refused decides the rest.
        if value.isprintable():
            return None
        index = first_refused(value)
        if index is None:
            return None
        return (
            "control_character",
            f"control characters are not accepted (U+{ord(value[index]):04X} at position {index})",
        )
    if isinstance(value, float) and not math.isfinite(value):
        return "finite_number", "NaN and infinities are not JSON numbers"
    return None


def _plain(value: Any) -> bool:
    return value is None or (type(value) is str and value.isprintable()) or type(value) is int


def find_refused(data: Any) -> tuple[Loc, str, str] | None:
    """Where the first refused value is, with its error type and message (iterative: a
    deep body must not exhaust the stack)."""
    # The common body (a sign-in): one flat object of printable text, checked at C speed.
    if type(data) is dict and all(map(_plain, data)) and all(map(_plain, data.values())):
        return None
    stack: list[tuple[Loc, Any]] = [((), data)]
    while stack:
        loc, value = stack.pop()
        if len(loc) > MAX_DEPTH:
            return loc[:MAX_DEPTH], "too_deep", f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, dict):
            items = list(value.items())
            for key, item in reversed(items):  # reversed: the first problem is reported
                stack.append(((*loc, key), item))
            for key, _ in items:
                found = _problem(key)
                if found is not None:
                    return (*loc, key), *found
        elif isinstance(value, list):
            stack.extend(((*loc, i), item) for i, item in reversed(list(enumerate(value))))
        else:
            found = _problem(value)
            if found is not None:
                return loc, *found
    return None


def refuse_controls(data: Any) -> Any:
    """``data`` unchanged, or a validation error at the refused value's location."""
    found = find_refused(data)
    if found is None:
        return data
    loc, kind, message = found
    raise ValidationError.from_exception_data(
        "body",
        [InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=None)],
    )


class Body(BaseModel):
    """Every request body: the text rule runs before the fields are validated."""

    @model_validator(mode="before")
    @classmethod
    def _text_rule(cls, data: Any) -> Any:
        return refuse_controls(data)


# A free-form JSON object (settings): the same rule, for a body or field that is no model.
JsonObject = Annotated[dict[str, Any], BeforeValidator(refuse_controls)]
# One text value outside a JSON body (a form field).
Text = Annotated[str, AfterValidator(refuse_controls)]
