"""What every gateway kind shares: its settings schema, webhook signatures, safe masking.

Each kind declares a :class:`GatewaySpec` (its fields and how to build it); the
registry only looks specs up. Settings are checked here once, so a gateway's
constructor can trust the types it is given.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import ipaddress
import json
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import phonenumbers

from twostep.domain.delivery import Gateway, WebhookRefused, WebhookRequest
from twostep.domain.errors import InvalidInput, InvalidPhoneNumber, InvalidSetting
from twostep.domain.phone import mask_phone, normalize_phone
from twostep.domain.text import first_refused

SIGNATURE_HEADER = "x-twostep-signature"  # lower-case: WebhookRequest.headers are


@dataclass(frozen=True, slots=True)
class Field:
    """One setting: ``kind`` is the JSON type it must have (float also takes an int)."""

    name: str
    kind: type
    required: bool = False
    default: Any = None
    secret: bool = False
    choices: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None  # inclusive, for numbers


def _no_extra_check(settings: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    kind: str
    fields: tuple[Field, ...]
    build: Callable[[str, Mapping[str, Any]], Gateway]
    extra_check: Callable[[dict[str, Any]], None] = _no_extra_check

    @property
    def secret_fields(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.secret)

    def check(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Return the settings with defaults filled in; refuse unknown, missing or mistyped."""
        known = {f.name: f for f in self.fields}
        for key in settings:
            if key not in known:
                raise InvalidSetting(f"unknown {self.kind} gateway setting {key!r}", field=key)
        clean: dict[str, Any] = {}
        for f in self.fields:
            value = settings.get(f.name)
            if value is None:
                if f.required:
                    raise InvalidSetting(f"{f.name} is required", field=f.name)
                if f.default is not None:
                    clean[f.name] = copy.deepcopy(f.default)  # a dict default is not shared
                continue
            clean[f.name] = _typed(f, value)
        self.extra_check(clean)
        return clean


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    dict: "an object",
    list: "a list",
}


def _typed(f: Field, value: object) -> Any:
    check_text_setting(f.name, value)
    wrong = InvalidSetting(f"{f.name} must be {_TYPE_NAMES.get(f.kind, 'a value')}", field=f.name)
    # bool is an int in Python, but never a valid port or timeout.
    if isinstance(value, bool) and f.kind in (int, float):
        raise wrong
    if f.kind is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, f.kind):
        raise wrong
    if isinstance(value, str):
        if not value:
            raise InvalidSetting(f"{f.name} must not be empty", field=f.name)
        if f.choices and value not in f.choices:
            raise InvalidSetting(f"{f.name} must be one of {', '.join(f.choices)}", field=f.name)
    if f.bounds and isinstance(value, int | float) and not f.bounds[0] <= value <= f.bounds[1]:
        low, high = f.bounds
        raise InvalidSetting(f"{f.name} must be from {low:g} to {high:g}", field=f.name)
    return value


def check_text_setting(name: str, value: object, max_depth: int = 16) -> None:
    """The one text rule (domain/text.py) for a setting and every string inside it (keys
    of a body template or of headers included): no control characters, no lone surrogates,
    so a path, a header or a template holds nothing a file system, a provider or a database
    would choke on. Iterative and bounded in depth, like the HTTP body walk."""
    stack: list[tuple[int, object]] = [(0, value)]
    while stack:
        depth, item = stack.pop()
        if depth > max_depth:
            raise InvalidSetting(f"{name} is nested too deep", field=name)
        if isinstance(item, str) and first_refused(item) is not None:
            raise InvalidSetting(
                f"{name} holds a control character; control characters are not accepted",
                field=name,
            )
        if isinstance(item, dict):
            stack.extend((depth + 1, part) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            stack.extend((depth + 1, part) for part in item)


def timeout_field(default: float) -> Field:
    """Seconds to wait for the provider: a sign-in is waiting, and failover needs time too."""
    return Field("timeout", float, default=default, bounds=(0.1, 60))


def check_url(settings: Mapping[str, Any], name: str) -> None:
    url = settings.get(name)
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSetting(f"{name} must be an http or https URL", field=name)


def placeholders(template: str, allowed: Iterable[str], name: str) -> set[str]:
    """The ``{names}`` a template uses; refuse malformed ones and names not in ``allowed``."""
    allowed = set(allowed)
    try:
        used = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:
        raise InvalidSetting(
            f"{name} is not a valid template (write a literal brace as {{{{ or }}}})", field=name
        ) from exc
    unknown = used - allowed
    if unknown:
        raise InvalidSetting(
            f"{name} uses unknown placeholder(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(allowed))}",
            field=name,
        )
    return used


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- webhooks -------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """The ``X-Twostep-Signature`` value for ``body``: ``sha256=<hex HMAC>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str | None, request: WebhookRequest) -> None:
    if not secret:
        raise WebhookRefused("this gateway has no webhook_secret, so it takes no webhooks")
    given = request.headers.get(SIGNATURE_HEADER, "").encode("utf-8", "replace")
    if not hmac.compare_digest(given, sign(secret, request.body).encode()):
        raise WebhookRefused("the webhook signature does not match")


def webhook_fields(request: WebhookRequest) -> dict[str, Any]:
    """The fields of a JSON or form webhook body (form if the content type says so)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        if request.form:
            return dict(request.form)
        try:
            return dict(parse_qsl(request.body.decode(), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise InvalidInput("the webhook body is not UTF-8") from exc
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the webhook body is not JSON") from exc
    if not isinstance(data, dict):
        raise InvalidInput("the webhook body must be a JSON object")
    return data


def required_text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise InvalidInput(f"the webhook has no text field {name!r}", field=name)
    return value


def optional_text(data: Mapping[str, Any], name: str) -> str | None:
    return None if data.get(name) is None else required_text(data, name)


def sender_number(raw: str) -> str:
    """E.164 where the number parses; as received otherwise (a short code, a sender ID)."""
    try:
        return normalize_phone(raw)
    except InvalidPhoneNumber:
        return raw.strip()


# --- what may appear in a log line or an error ----------------------------------------


def mask_destination(to: str) -> str:
    """A phone number as ``+1 ••• 4567``, an address as ``a•••@example.com``."""
    if "@" in to:
        local, _, domain = to.rpartition("@")
        return f"{local[:1]}\u2022\u2022\u2022@{domain}"
    try:
        return mask_phone(to)
    except phonenumbers.NumberParseException:  # still never logged whole
        return "\u2022\u2022\u2022"
