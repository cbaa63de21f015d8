"""The one error mapper: every error becomes ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from twostep.domain import errors
from twostep.domain.delivery import WebhookRefused

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
]

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def status_for(exc: errors.TwostepError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.TwostepError)
    async def _domain(_request: Request, exc: errors.TwostepError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            log.error("server error: %s", exc.code)
        extra = {"field": exc.field} if isinstance(exc, errors.InvalidInput) and exc.field else {}
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message, **extra), status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return JSONResponse(error_body("malformed_json", "the body is not valid JSON"), 400)
        # Report where and what, never the submitted value (it may be a code).
        details = [
            {
                "field": ".".join(str(x) for x in p.get("loc", ()) if x != "body"),
                "problem": p["msg"],
            }
            for p in problems
        ]
        first = details[0] if details else {"field": "", "problem": "invalid"}
        message = f"{first['field'] or 'body'}: {first['problem']}"
        return JSONResponse(error_body("invalid_request", message, details=details), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(error_body("internal_error", "an unexpected error occurred"), 500)
