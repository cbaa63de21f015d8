"""What every gateway kind shares: its settings model, webhook signatures, safe masking.

Each kind declares a :class:`GatewaySpec`: a pydantic model of its settings (types,
bounds, defaults, descriptions; credentials as ``SecretStr``), what it can do, and how
to build it. The registry only looks specs up. Settings are checked here once, so a
gateway's constructor can trust the model it is given, and the same model describes the
settings in ``/openapi.json``.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import ipaddress
import json
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, get_args, get_origin
from urllib.parse import parse_qsl, urlsplit

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Secret,
    SecretStr,
    ValidationError,
    model_validator,
)

from twostep.domain.delivery import Capability, Gateway, WebhookRefused, WebhookRequest
from twostep.domain.errors import InvalidInput, InvalidPhoneNumber, InvalidSetting
from twostep.domain.phone import mask_phone, normalise_phone
from twostep.domain.text import first_refused

SIGNATURE_HEADER = "x-twostep-signature"  # lower-case: WebhookRequest.headers are

# A setting's text is never empty: an empty value is no value (leave the setting out).
Text = Annotated[str, Field(min_length=1)]
# A credential: sealed at rest, never listed, never in a log line or an error.
Credential = Annotated[SecretStr, Field(min_length=1)]


def timeout_field(default: float) -> Any:
    """Seconds to wait for the provider: a sign-in is waiting, and failover needs time too."""
    return Field(
        default,
        ge=0.1,
        le=60,
        description="seconds to wait for the provider before the next gateway's turn",
    )


class GatewaySettings(BaseModel):
    """Every kind's settings: JSON types exactly (no "25" for 25, no true for 1), no
    unknown keys, the text rule on every string; ``null`` means "not set"."""

    model_config = ConfigDict(extra="forbid", strict=True, hide_input_in_errors=True)

    @model_validator(mode="before")
    @classmethod
    def _text_rule(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        for key, value in data.items():
            check_text_setting(str(key), value)
        return {key: value for key, value in data.items() if value is not None}

    def stored(self) -> dict[str, Any]:
        """The settings as stored and built from: defaults filled in, unset left out,
        credentials in the clear (the caller seals them)."""
        out = self.model_dump(exclude_none=True)
        for name, value in out.items():
            if isinstance(value, SecretStr | Secret):
                out[name] = value.get_secret_value()
        return out


S = TypeVar("S", bound=GatewaySettings)


def secret_fields(model: type[GatewaySettings]) -> frozenset[str]:
    """The fields typed as a credential (``SecretStr``, ``Secret[...]``, or optional ones)."""

    def secret(annotation: Any) -> bool:
        origin = get_origin(annotation) or annotation
        if isinstance(origin, type) and issubclass(origin, SecretStr | Secret):
            return True
        return any(secret(arg) for arg in get_args(annotation))

    return frozenset(name for name, f in model.model_fields.items() if secret(f.annotation))


@dataclass(frozen=True, slots=True)
class GatewaySpec(Generic[S]):
    """One gateway kind: its settings, what it can do, and how it is built."""

    kind: str
    settings: type[S]
    can: frozenset[Capability]
    build: Callable[[str, S], Gateway]
    extra: str | None = None  # the package extra its provider library comes with
    libraries: tuple[str, ...] = ()  # the modules that extra installs

    @property
    def secret_fields(self) -> frozenset[str]:
        return secret_fields(self.settings)

    def parse(self, settings: Mapping[str, Any]) -> S:
        """The settings as the kind's model; refuse unknown, missing, mistyped, out of range."""
        try:
            return self.settings.model_validate(settings)
        except ValidationError as exc:
            raise invalid_setting(self.kind, exc) from None

    def check(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Return the settings with defaults filled in (see :meth:`GatewaySettings.stored`)."""
        return self.parse(settings).stored()

    def gateway(self, name: str, settings: Mapping[str, Any]) -> Gateway:
        self.check_libraries()
        built = self.build(name, self.parse(settings))
        assert built.capabilities == self.can, f"{self.kind} declares {self.can}"
        return built

    def check_libraries(self) -> None:
        """Refuse a kind whose provider library is not installed, naming the extra."""
        if self.extra and any(importlib.util.find_spec(lib) is None for lib in self.libraries):
            raise InvalidSetting(
                f"gateway kind {self.kind!r} needs the {self.extra} extra: "
                f"pip install 'twostep[{self.extra}]'",
                field="kind",
            )


def invalid_setting(kind: str, exc: ValidationError) -> InvalidSetting:
    """One pydantic error as the API's ``invalid_setting`` with the setting's name: unknown
    keys first (as a typo is the likeliest mistake), never the value given."""
    problems = exc.errors(include_url=False, include_input=False)
    problems.sort(key=lambda p: p["type"] != "extra_forbidden")
    first = problems[0]
    name = str(first["loc"][0]) if first["loc"] else "settings"
    kind_of = first["type"]
    if kind_of == "extra_forbidden":
        return InvalidSetting(f"unknown {kind} gateway setting {name!r}", field=name)
    if kind_of == "missing":
        return InvalidSetting(f"{name} is required", field=name)
    if kind_of in ("string_too_short", "too_short") and first.get("ctx", {}).get("min_length") == 1:
        return InvalidSetting(f"{name} must not be empty", field=name)
    message = first["msg"]
    return InvalidSetting(f"{name}: {message[:1].lower()}{message[1:]}", field=name)


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


def check_url(value: str | None, name: str) -> str | None:
    """``value`` if it is an http(s) URL with a host (for a field validator)."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # a malformed IPv6 literal or port
        ok = False
    if not ok:
        raise InvalidSetting(f"{name} must be an http or https URL", field=name)
    return value


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


def revealed(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


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
        return normalise_phone(raw)
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
