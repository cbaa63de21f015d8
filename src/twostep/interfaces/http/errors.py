"""The one error mapper: every error becomes ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from twostep.adapters.logs import current_request_id
from twostep.domain import errors
from twostep.domain.delivery import WebhookRefused
from twostep.domain.text import printable_escape

log = logging.getLogger("twostep.http")

_STATUS: list[tuple[type[errors.TwostepError], int]] = [
    (errors.Unauthenticated, 401),
    (WebhookRefused, 403),
    (errors.RateLimited, 429),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.InvalidInput, 422),
    (errors.ConfirmationFailed, 422),
    (errors.ResyncFailed, 422),
    (errors.SecretKeyError, 500),
    (errors.DirectoryUnavailable, 502),
]

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}

# What FastAPI's body parser raises besides JSONDecodeError for a body that is not JSON:
# invalid UTF-8 (also a Latin-1 body under its own charset), nesting deeper than the
# parser's recursion limit, an integer of more than 4300 digits.
_NOT_JSON = (UnicodeDecodeError, RecursionError, ValueError)
_MALFORMED = "the body is not valid JSON (UTF-8, RFC 8259)"
_MESSAGE_LIMIT = 2000


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    # Messages and field names may quote what the client sent: never a control character
    # or a lone surrogate in the answer (the latter could not even be encoded as UTF-8).
    return {"error": {"code": code, "message": printable_escape(message, _MESSAGE_LIMIT), **extra}}


def status_for(exc: errors.TwostepError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def error_response(exc: errors.TwostepError) -> JSONResponse:
    """The answer to a Twostep error, wherever it was raised (a handler or the edge)."""
    status = status_for(exc)
    if status >= 500:
        log.error("server error: %s", exc.code)
    field = exc.field if isinstance(exc, errors.InvalidInput) else None
    extra: dict[str, Any] = {"field": printable_escape(field)} if field else {}
    details = getattr(exc, "details", None)  # an error that lists its problems one by one
    if details:
        extra["details"] = [
            {k: printable_escape(v) if isinstance(v, str) else v for k, v in d.items()}
            for d in details
        ]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(exc.code, exc.message, **extra), status, headers=headers)


def field_name(loc: tuple[int | str, ...], body: Any = None) -> str:
    """``("body", "settings", "x")`` as ``settings.x`` (a key may be the client's text).
    A body that is a union by ``kind`` (a new method) has the kind in the location, which
    names no field: ``("body", "sms", "phone")`` is ``phone``."""
    parts = [x for x in loc if x != "body"]
    if (
        len(parts) > 1
        and isinstance(body, dict)
        and parts[0] == body.get("kind")
        and parts[0] not in body
    ):
        parts = parts[1:]
    return printable_escape(".".join(str(x) for x in parts))


def _field(problem: Any, body: Any) -> str:
    loc = tuple(problem.get("loc", ()))
    if problem.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        # A union by kind: the location is the body itself, the field is the tag's.
        loc = (*loc, str(problem.get("ctx", {}).get("discriminator", "")).strip("'"))
    return field_name(loc, body)


def _allowed(app: FastAPI, path: str) -> str:
    """Every method the OpenAPI description documents for ``path`` (a 405 is rare: the
    description is built once and cached by FastAPI)."""
    methods: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(path):
            methods |= {m.upper() for m in operations}
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.TwostepError)
    async def _domain(_request: Request, exc: errors.TwostepError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return JSONResponse(error_body("malformed_json", _MALFORMED), 400)
        # Report where and what, never the submitted value (it may be a code).
        details = [{"field": _field(p, exc.body), "problem": p["msg"]} for p in problems]
        first = details[0] if details else {"field": "", "problem": "invalid"}
        message = f"{first['field'] or 'body'}: {first['problem']}"
        extra: dict[str, Any] = {"field": first["field"]} if first["field"] else {}
        return JSONResponse(error_body("invalid_request", message, **extra, details=details), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, _NOT_JSON):
            return JSONResponse(error_body("malformed_json", _MALFORMED), 400)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = exc.headers
        if exc.status_code == 405:  # the router names one route's methods, not the path's
            headers = {**(headers or {}), "Allow": _allowed(app, request.url.path)}
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")  # with the request id (request_ids.py leaves it set)
        request_id = current_request_id()
        headers = {"X-Request-ID": request_id} if request_id else None
        body = error_body("internal_error", "an unexpected error occurred")
        return JSONResponse(body, 500, headers=headers)
