"""The JSON Schema of tenant settings, derived from domain/settings.py: the settings are
checked there (422 ``invalid_setting``), and described here from the same ranges, so the
OpenAPI description cannot drift from what the server accepts."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from twostep.domain.settings import (
    AUDIT_OPTIONAL_FIELDS,
    MAX_CALLING_CODES,
    MAX_URL_LENGTH,
    RANGES,
    TenantSettings,
)

# What the validator checks beyond a type and a range (see TenantSettings.__post_init__).
_SPECIAL: dict[str, dict[str, Any]] = {
    "issuer": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^:]*$"},
    "app_code_algorithm": {"type": "string", "enum": ["SHA1", "SHA256", "SHA512"]},
    "app_code_digits": {"type": "integer", "enum": [6, 8]},
    "app_code_period": {"type": "integer", "enum": [30, 60]},
    "audit_fields": {
        "type": "array",
        "items": {"type": "string", "enum": list(AUDIT_OPTIONAL_FIELDS)},
        "uniqueItems": True,
    },
    "allowed_calling_codes": {
        "type": "array",
        "items": {"type": "string", "pattern": "^[1-9][0-9]{0,2}$"},
        "uniqueItems": True,
        "maxItems": MAX_CALLING_CODES,
    },
    "sms_sender": {"type": "string", "maxLength": 16},
    "caller_id": {"type": "string", "pattern": r"^(\+[0-9]{7,15})?$"},
    "language": {"type": "string", "pattern": "^[A-Za-z0-9-]{2,16}$"},
    "push_message": {
        "type": "string",
        "minLength": 1,
        "maxLength": 200,
        "description": "may use {integration}, {client_ip} and {user}",
    },
    "alert_webhook_url": {
        "type": "string",
        "maxLength": MAX_URL_LENGTH,
        "pattern": "^(https?://.*)?$",
    },
}


def _property(name: str, default: Any) -> dict[str, Any]:
    if name in _SPECIAL:
        return {**_SPECIAL[name], "default": _json(default)}
    if name in RANGES:
        low, high = RANGES[name]
        return {"type": "integer", "minimum": low, "maximum": high, "default": default}
    if isinstance(default, bool):
        return {"type": "boolean", "default": default}
    raise AssertionError(f"tenant setting {name} is not described")  # pragma: no cover


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def settings_schema() -> dict[str, Any]:
    defaults = TenantSettings()
    described = {f.name: _property(f.name, getattr(defaults, f.name)) for f in fields(defaults)}
    return {
        "type": "object",
        "title": "TenantSettings",
        "description": "Tenant settings (a partial object: only the settings to change)",
        "properties": described,
        "additionalProperties": False,
    }


SETTINGS_SCHEMA = settings_schema()
