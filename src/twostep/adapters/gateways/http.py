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
from typing import Any
from urllib.parse import urlsplit

import httpx

from twostep.adapters.gateways.common import (
    Field,
    GatewaySpec,
    check_url,
    placeholders,
    sender_number,
    timeout_field,
    verify_signature,
    webhook_fields,
)
from twostep.domain.delivery import (
    CallEvent,
    Channel,
    GatewayError,
    InboundText,
    Receipt,
    TextMessage,
    VoiceCall,
    WebhookAnswer,
    WebhookRefused,
    WebhookRequest,
)
from twostep.domain.errors import InvalidInput, InvalidSetting

PLACEHOLDERS = frozenset({"to", "number", "text", "sender", "reference", "api_key"})
DEFAULT_BODY = {"to": "{to}", "text": "{text}"}


class HttpGateway:
    channels = frozenset({Channel.SMS})

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        """``settings`` as checked by :data:`SPEC` (types and templates already valid)."""
        self.name = name
        self._s = dict(settings)
        self._host = urlsplit(self._s["url"]).hostname or "?"  # never the query: it may hold keys

    def send_text(self, message: TextMessage) -> Receipt:
        if message.channel is not Channel.SMS:
            raise GatewayError(f"http gateway {self.name} sends text messages only")
        s = self._s
        values = {
            "to": message.to,
            "number": message.to.removeprefix("+"),
            "text": message.body,
            "sender": message.sender or s.get("sender", ""),
            "reference": message.reference or "",
            "api_key": s.get("api_key", ""),
        }
        body = _fill(s["body"], values)
        headers = {k: v.format_map(values) for k, v in s["headers"].items()}
        request: dict[str, Any] = {"headers": headers, "timeout": s["timeout"]}
        if s["method"] == "GET":
            request["params"] = {k: _scalar(v) for k, v in body.items()}
        elif s["body_format"] == "form":
            request["data"] = {k: _scalar(v) for k, v in body.items()}
        else:
            request["json"] = body
        if "username" in s:
            request["auth"] = (s["username"], s.get("password", ""))
        try:
            response = httpx.request(s["method"], s["url"], **request)
        except httpx.TimeoutException as exc:
            raise self._error(f"no answer within {s['timeout']:g} s") from exc
        except httpx.HTTPError as exc:
            raise self._error(f"cannot reach the provider ({type(exc).__name__})") from exc
        return Receipt(gateway=self.name, provider_id=self._check(response))

    def _check(self, response: httpx.Response) -> str | None:
        """Raise unless the answer is a success; return the provider's id if configured."""
        s = self._s
        status = response.status_code
        expected = s.get("success_status")
        if (status not in expected) if expected else not 200 <= status < 300:
            raise self._error(f"the provider answered {status}")
        if "success_field" not in s and "id_field" not in s:
            return None
        try:
            data: Any = response.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if "success_field" in s and _lookup(data, s["success_field"]) != s["success_value"]:
            # The value itself is not shown: a provider may echo the text back.
            raise self._error(f"the provider answered {status} without {s['success_field']} set")
        return _optional_str(data, s.get("id_field"))

    def _error(self, why: str) -> GatewayError:
        return GatewayError(f"http gateway {self.name} ({self._host}): {why}")

    def place_call(self, call: VoiceCall) -> Receipt:
        raise GatewayError(f"http gateway {self.name} does not place calls")

    def inbound_text(self, request: WebhookRequest) -> InboundText:
        verify_signature(self._s.get("webhook_secret"), request)
        data = webhook_fields(request)
        return InboundText(
            sender=sender_number(_text_at(data, self._s["inbound_from_field"])),
            body=_text_at(data, self._s["inbound_text_field"]),
            provider_id=_optional_str(data, self._s.get("inbound_id_field")),
        )

    def call_event(self, request: WebhookRequest) -> CallEvent:
        raise WebhookRefused(
            f"http gateway {self.name} places no calls, so it takes no call events"
        )

    def call_answer(self, text: str, language: str) -> WebhookAnswer:
        return WebhookAnswer("text/plain; charset=utf-8", text.encode())


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


def _check(settings: dict[str, Any]) -> None:
    check_url(settings, "url")
    headers = settings["headers"]
    for key, value in headers.items():
        if not isinstance(value, str):
            raise InvalidSetting(f"headers[{key!r}] must be a string", field="headers")
        placeholders(value, PLACEHOLDERS, "headers")
    if settings["method"] == "GET" or settings["body_format"] == "form":
        for key, value in settings["body"].items():
            if isinstance(value, dict | list):
                raise InvalidSetting(
                    f"body[{key!r}] must be a single value for a form or a query string",
                    field="body",
                )
    _check_template(settings["body"])
    if "success_value" in settings and isinstance(settings["success_value"], dict | list):
        raise InvalidSetting(
            "success_value must be a string, number or boolean", field="success_value"
        )
    if ("success_field" in settings) != ("success_value" in settings):
        raise InvalidSetting("success_field and success_value go together", field="success_field")
    for code in settings.get("success_status", ()):
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise InvalidSetting(
                "success_status must list HTTP status codes", field="success_status"
            )
    if "password" in settings and "username" not in settings:
        raise InvalidSetting("password needs a username (HTTP Basic auth)", field="username")


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


SPEC = GatewaySpec(
    kind="http",
    fields=(
        Field("url", str, required=True),
        Field("method", str, default="POST", choices=("POST", "GET", "PUT")),
        Field(
            "headers", dict, default={}, secret=True
        ),  # often carry a token: sealed, never listed
        Field("body_format", str, default="json", choices=("json", "form")),
        Field("body", dict, default=DEFAULT_BODY),
        Field("sender", str),
        Field("username", str),
        Field("password", str, secret=True),
        Field("api_key", str, secret=True),
        Field("success_status", list),
        Field("success_field", str),
        Field("success_value", object),
        Field("id_field", str),
        timeout_field(5.0),
        Field("webhook_secret", str, secret=True),
        Field("inbound_from_field", str, default="from"),
        Field("inbound_text_field", str, default="text"),
        Field("inbound_id_field", str),
    ),
    build=HttpGateway,
    extra_check=_check,
)
