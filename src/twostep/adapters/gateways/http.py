"""A generic HTTP SMS gateway: one request per text, shaped by settings, for most SMS APIs.

The operator describes the provider's API: URL, method, headers, a body template
(JSON or form; the query string for GET) whose strings may use ``{to}``, ``{number}``,
``{text}``, ``{sender}``, ``{reference}`` and ``{api_key}``, and what a success looks
like (status codes, optionally one JSON field). Credentials (``api_key``, ``password``)
are secret fields; they reach the request only through placeholders or Basic auth.
Inbound replies are a JSON or form POST signed with ``X-Twostep-Signature``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import Field, Secret, field_validator, model_validator
from pydantic.config import JsonDict

from twostep.adapters.gateways.common import (
    Credential,
    GatewaySettings,
    GatewaySpec,
    Text,
    check_url,
    placeholders,
    revealed,
    sender_number,
    timeout_field,
    verify_signature,
    webhook_fields,
)
from twostep.domain.delivery import (
    Capability,
    Channel,
    Gateway,
    GatewayError,
    InboundText,
    Receipt,
    TextMessage,
    WebhookRequest,
)
from twostep.domain.errors import InvalidInput, InvalidSetting

PLACEHOLDERS = frozenset({"to", "number", "text", "sender", "reference", "api_key"})
DEFAULT_BODY: JsonDict = {"to": "{to}", "text": "{text}"}
_PATH = "a dotted path into the JSON, e.g. messages.0.id"


class HttpSettings(GatewaySettings):
    """A generic SMS API: one HTTP request per text, shaped by these settings. Strings of
    ``headers`` and ``body`` may use {to}, {number}, {text}, {sender}, {reference} and
    {api_key}."""

    url: Text = Field(
        description="the provider's http(s) send URL; listed in plain, so keys go in api_key "
        "or headers"
    )
    method: Literal["POST", "GET", "PUT"] = Field(
        "POST", description="GET sends the body as the query string"
    )
    # Headers often carry a token: sealed whole, never listed.
    headers: Secret[dict[str, str]] = Field(
        default_factory=lambda: Secret({}),
        json_schema_extra={"writeOnly": True},
        description='header values, e.g. {"Authorization": "Bearer {api_key}"}',
    )
    body_format: Literal["json", "form"] = Field(
        "json", description="json: the body is sent as JSON; form: as a URL-encoded form"
    )
    body: dict[str, Any] = Field(
        default_factory=lambda: dict(DEFAULT_BODY),
        json_schema_extra={"default": DEFAULT_BODY},
        description="the body template (flat for form and GET)",
    )
    sender: Text | None = Field(None, description="the {sender} when the tenant sets none")
    username: Text | None = Field(None, description="HTTP Basic user")
    password: Credential | None = Field(None, description="HTTP Basic password")
    api_key: Credential | None = Field(None, description="the value of {api_key}")
    success_status: list[Annotated[int, Field(ge=100, le=599)]] | None = Field(
        None, description="HTTP statuses that mean success; default any 2xx"
    )
    success_field: Text | None = Field(
        None, description=f"{_PATH}: must equal success_value in the answer"
    )
    success_value: bool | int | float | Text | None = Field(
        None, description='the value success_field must hold, e.g. true, 0 or "queued"'
    )
    id_field: Text | None = Field(None, description=f"{_PATH}: the provider's message id")
    timeout: float = timeout_field(5.0)
    webhook_secret: Credential | None = Field(
        None,
        description="the key of X-Twostep-Signature on inbound replies; without it the "
        "gateway takes no replies",
    )
    inbound_from_field: Text = Field("from", description=f"{_PATH}: a reply's sender")
    inbound_text_field: Text = Field("text", description=f"{_PATH}: a reply's text")
    inbound_id_field: Text | None = Field(None, description=f"{_PATH}: a reply's id")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str | None:
        return check_url(value, "url")

    @model_validator(mode="after")
    def _together(self) -> HttpSettings:
        for value in self.headers.get_secret_value().values():
            placeholders(value, PLACEHOLDERS, "headers")
        if self.method == "GET" or self.body_format == "form":
            for key, value in self.body.items():
                if isinstance(value, dict | list):
                    raise InvalidSetting(
                        f"body[{key!r}] must be a single value for a form or a query string",
                        field="body",
                    )
        _check_template(self.body)
        if (self.success_field is None) != (self.success_value is None):
            raise InvalidSetting(
                "success_field and success_value go together", field="success_field"
            )
        if self.password is not None and self.username is None:
            raise InvalidSetting("password needs a username (HTTP Basic auth)", field="username")
        return self


class HttpGateway:
    """Texts (TextSender) and signed replies (InboundTexts); no calls, no email."""

    channels = frozenset({Channel.SMS})

    def __init__(self, name: str, settings: HttpSettings) -> None:
        self.name = name
        self._s = settings
        self._host = urlsplit(settings.url).hostname or "?"  # never the query: it may hold keys

    def send_text(self, message: TextMessage) -> Receipt:
        if message.channel is not Channel.SMS:
            raise GatewayError(f"http gateway {self.name} sends text messages only")
        s = self._s
        values = {
            "to": message.to,
            "number": message.to.removeprefix("+"),
            "text": message.body,
            "sender": message.sender or s.sender or "",
            "reference": message.reference or "",
            "api_key": revealed(s.api_key) or "",
        }
        body = _fill(s.body, values)
        headers = {k: v.format_map(values) for k, v in s.headers.get_secret_value().items()}
        request: dict[str, Any] = {"headers": headers, "timeout": s.timeout}
        if s.method == "GET":
            request["params"] = {k: _scalar(v) for k, v in body.items()}
        elif s.body_format == "form":
            request["data"] = {k: _scalar(v) for k, v in body.items()}
        else:
            request["json"] = body
        if s.username is not None:
            request["auth"] = (s.username, revealed(s.password) or "")
        try:
            response = httpx.request(s.method, s.url, **request)
        except httpx.TimeoutException as exc:
            raise self._error(f"no answer within {s.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise self._error(f"cannot reach the provider ({type(exc).__name__})") from exc
        return Receipt(gateway=self.name, provider_id=self._check(response))

    def _check(self, response: httpx.Response) -> str | None:
        """Raise unless the answer is a success; return the provider's id if configured."""
        s = self._s
        status = response.status_code
        if (status not in s.success_status) if s.success_status else not 200 <= status < 300:
            raise self._error(f"the provider answered {status}")
        if s.success_field is None and s.id_field is None:
            return None
        try:
            data: Any = response.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if s.success_field is not None and _lookup(data, s.success_field) != s.success_value:
            # The value itself is not shown: a provider may echo the text back.
            raise self._error(f"the provider answered {status} without {s.success_field} set")
        return _optional_str(data, s.id_field)

    def _error(self, why: str) -> GatewayError:
        return GatewayError(f"http gateway {self.name} ({self._host}): {why}")

    def inbound_text(self, request: WebhookRequest) -> InboundText:
        verify_signature(revealed(self._s.webhook_secret), request)
        data = webhook_fields(request)
        return InboundText(
            sender=sender_number(_text_at(data, self._s.inbound_from_field)),
            body=_text_at(data, self._s.inbound_text_field),
            provider_id=_optional_str(data, self._s.inbound_id_field),
        )


def _fill(template: Any, values: Mapping[str, str]) -> Any:
    """The body template with placeholders filled; values are inserted, never re-parsed."""
    if isinstance(template, str):
        return template.format_map(values)
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lookup(data: Any, path: str) -> Any:
    """``a.b.0.c`` into nested JSON objects and arrays; None where it leads nowhere."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _text_at(data: Any, path: str) -> str:
    value = _lookup(data, path)
    if not isinstance(value, str):
        raise InvalidInput(f"the webhook has no text at {path!r}")
    return value


def _optional_str(data: Any, path: str | None) -> str | None:
    """A provider id: a string or a number where ``path`` leads, else None."""
    value = _lookup(data, path) if path else None
    return None if value is None or isinstance(value, dict | list) else str(value)


def _check_template(template: Any) -> None:
    if isinstance(template, str):
        placeholders(template, PLACEHOLDERS, "body")
    elif isinstance(template, dict):
        for value in template.values():
            _check_template(value)
    elif isinstance(template, list):
        for value in template:
            _check_template(value)
    elif template is not None and not isinstance(template, int | float):
        raise InvalidSetting("body must hold JSON values only", field="body")


def _build(name: str, settings: HttpSettings) -> Gateway:
    http = HttpGateway(name, settings)
    return Gateway(name, texts=http, inbound_texts=http)


SPEC = GatewaySpec(
    kind="http",
    settings=HttpSettings,
    can=frozenset({Capability.TEXTS, Capability.INBOUND_TEXTS}),
    build=_build,
)
