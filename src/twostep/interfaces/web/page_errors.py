"""Errors at the pages' addresses answer a page, not the API's JSON body: an unknown
address under ``/admin``, ``/my`` or ``/signin`` (404), a method a page does not take (405),
or an error a page did not handle itself. Everywhere else the API's one error mapper
(interfaces/http/errors.py) answers as before: these handlers wrap its handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from twostep.domain.errors import ControlCharacter, TwostepError
from twostep.domain.text import has_control, printable_escape
from twostep.interfaces.http.errors import status_for
from twostep.interfaces.web import texts
from twostep.interfaces.web.pages import Pages

PREFIXES = ("/admin", "/my", "/signin")
_Handler = Callable[[Request, Exception], Awaitable[Response] | Response]
_MESSAGES = {
    404: texts.N_("There is no page at this address."),
    405: texts.N_("This page cannot be used that way. Go back and try again."),
}
_OTHER = texts.N_("The request could not be completed. Go back and try again.")
# The text rule's refusal (domain/text.py: a control character in the address, its query or
# a field), which the HTTP layer answers before any page runs (interfaces/http/params.py).
_CONTROL = texts.N_(
    "What was sent holds a control character (an invisible character such as NUL), which "
    "cannot be accepted. Go back, type it again, and try again."
)


def is_page(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PREFIXES)


def install(api: FastAPI, pages: Pages) -> None:
    for kind in (HTTPException, TwostepError):
        api.add_exception_handler(kind, _wrapping(pages, api.exception_handlers[kind]))


def _wrapping(pages: Pages, api_handler: _Handler) -> _Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path):
            answer = api_handler(request, exc)
            return await answer if isinstance(answer, Awaitable) else answer
        message = None
        if isinstance(exc, HTTPException):
            status, code = exc.status_code, None
        else:
            assert isinstance(exc, TwostepError)
            status, code = status_for(exc), exc.code
            if isinstance(exc, ControlCharacter):
                message = _CONTROL
        visit = await run_in_threadpool(pages.visit, _printable(request))
        response = pages.render(
            visit,
            "error.html",
            status=status,
            title=texts.N_("Something went wrong"),
            message=message or _MESSAGES.get(status, _OTHER),
            code=code,
        )
        if status == 405 and isinstance(exc, HTTPException) and exc.headers:
            response.headers["Allow"] = exc.headers.get("Allow", "")
        return response

    return handler


def _printable(request: Request) -> Request:
    """The request as the error page may show it (its path in the language switch's return
    address): a path with a control character is written with escapes, never echoed."""
    path: str = request.scope.get("path", "")
    if not has_control(path):
        return request
    return Request({**request.scope, "path": printable_escape(path, 512)}, request.receive)
