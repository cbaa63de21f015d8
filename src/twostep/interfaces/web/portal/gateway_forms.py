"""A gateway kind's settings as a form: one labelled field per setting of the kind's settings
model (adapters/gateways/*, through the registry), and the posted form back as the settings
the service takes, with a message per field it cannot read. Each field's label and help are
catalog message ids (portal/gateway_texts.py), which the template translates.

* text, number, a choice (a ``Literal``: a list), a yes/no (a checkbox);
* a setting whose value is an object or a list (an HTTP gateway's body template, its
  headers, its success statuses) is a small JSON box of its own, labelled like the rest;
* a credential (the kind's secret fields) is a password field, never filled in: a blank one
  leaves the stored value as it is (the service keeps it) and a new sign-up needs it typed.

Every kind Twostep ships has a settings model, so no kind falls back to one JSON box for all
its settings (the page keeps that box only for a kind without fields, which none is today).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twostep.domain.delivery import GatewaySpecs
from twostep.interfaces.web.portal import gateway_texts
from twostep.interfaces.web.texts import N_

PREFIX = "s."  # the form's field names: s.<setting>, apart from name, kind and csrf


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    input: str  # text, password, password_json, number, decimal, select, checkbox, json
    required: bool
    label: str  # a message id, as the help
    help: str
    options: tuple[str, ...] = ()
    default: Any = None

    @property
    def secret(self) -> bool:
        """A credential: write-only, never shown back."""
        return self.input in ("password", "password_json")

    @property
    def form_name(self) -> str:
        return PREFIX + self.name

    def shown(self, value: Any) -> str:
        """The value as the field shows it (never a credential's)."""
        if self.secret or value is None:
            return ""
        if self.input == "json":
            return json.dumps(value, ensure_ascii=False)
        if self.input == "checkbox":
            return "1" if value else ""
        return str(value)


def _input(schema: Mapping[str, Any], secret: bool) -> tuple[str, tuple[str, ...]]:
    choices = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    one = choices[0] if len(choices) == 1 else {}
    if secret:  # typed as JSON when it is no string (an HTTP gateway's headers)
        return ("password" if one.get("type") == "string" else "password_json"), ()
    if "enum" in one or "const" in one:
        values = one.get("enum") or [one.get("const")]
        return "select", tuple(str(v) for v in values)
    kind = one.get("type")
    if kind == "string":
        return "text", ()
    if kind == "integer":
        return "number", ()
    if kind == "number":
        return "decimal", ()
    if kind == "boolean":
        return "checkbox", ()
    return "json", ()  # an object, a list, or a value of several types


def fields_of(specs: GatewaySpecs, kind: str) -> list[Field] | None:
    """The kind's settings, in the model's order; None: the kind has no settings model
    (its settings are then one JSON object, as the API takes them)."""
    describe = getattr(specs, "settings_model", None)
    if describe is None:
        return None
    model = describe(kind)
    secrets = specs.secret_fields(kind)
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    found = []
    for name, prop in schema.get("properties", {}).items():
        shape, options = _input(prop, name in secrets)
        found.append(
            Field(
                name=name,
                input=shape,
                required=name in required,
                label=gateway_texts.label(name),
                help=str(prop.get("description", "")),
                options=options,
                default=prop.get("default"),
            )
        )
    return found


def read(fields: list[Field], form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings the form gives (a blank field: not given) and, per field, why one cannot
    be read. A checkbox is always given (unticked: false)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        raw = form.get(f.form_name)
        text = raw if isinstance(raw, str) else ""
        if f.input == "checkbox":
            values[f.name] = text == "1"
            continue
        if not text.strip():
            continue
        try:
            values[f.name] = _parsed(f, text)
        except ValueError as exc:
            errors[f.name] = str(exc)
    return values, errors


NOT_A_NUMBER = N_("This is not a whole number.")
NOT_DECIMAL = N_("This is not a number.")
NOT_JSON = N_("This is not valid JSON.")
NOT_LISTED = N_("This is not one of the choices.")


def _parsed(f: Field, text: str) -> Any:
    if f.input == "number":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(NOT_A_NUMBER) from None
    if f.input == "decimal":
        try:
            return float(text.strip())
        except ValueError:
            raise ValueError(NOT_DECIMAL) from None
    if f.input in ("json", "password_json"):
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError(NOT_JSON) from None
    if f.input == "select" and text not in f.options:
        raise ValueError(NOT_LISTED)
    return text
