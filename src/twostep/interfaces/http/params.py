"""The text rule (domain/text.py) for path and query parameters, before any route runs.

A pure ASGI layer rather than a FastAPI dependency: on the common path it costs one
``isprintable`` of the decoded path and nothing for an empty query, so the validate hot path
pays nothing measurable. Only when something is refused does it look for the parameter's
name, to answer through the one error mapper like any other ``InvalidInput``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Iterable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from twostep.domain.errors import InvalidInput, TwostepError
from twostep.domain.text import check_text, has_control
from twostep.interfaces.http.errors import error_response


class TextParams:
    def __init__(self, app: ASGIApp, templates: Iterable[str] = ()) -> None:
        """``templates``: the routes' paths, e.g. ``/v1/tenants/{tenant}``, to name the
        parameter that was refused."""
        self.app = app
        self.paths = [compile_path(t)[0] for t in dict.fromkeys(templates)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                self._check(scope)
            except InvalidInput as exc:
                await self._refuse(exc, scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(exc: InvalidInput, scope: Scope, receive: Receive, send: Send) -> None:
        """Through the app's own handler of Twostep's errors when it has one (the pages
        wrap it to answer a page at their addresses: interfaces/web/page_errors.py), else
        the API's JSON body."""
        app = scope.get("app")
        handlers = getattr(app, "exception_handlers", None) or {}
        handler = handlers.get(TwostepError)
        if handler is None:
            await error_response(exc)(scope, receive, send)
            return
        answer = handler(Request(scope, receive), exc)
        response = await answer if isinstance(answer, Awaitable) else answer
        await response(scope, receive, send)

    def _check(self, scope: Scope) -> None:
        path: str = scope.get("path", "")
        # isprintable() is false for every control character and lone surrogate (and for
        # a few harmless characters, which has_control then lets through).
        if not path.isprintable() and has_control(path):
            check_text(*_refused_param(self.paths, path))
        query: bytes = scope.get("query_string", b"")
        if query:
            # As Starlette decodes it for the route: UTF-8, undecodable bytes replaced.
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                check_text(name, "query")
                check_text(value, name)


def _refused_param(paths: list[re.Pattern[str]], path: str) -> tuple[str, str]:
    """The value and name of the path parameter holding the control character (the whole
    path if it matches no route)."""
    for pattern in paths:
        match = pattern.match(path)
        if match is not None:
            for name, value in match.groupdict().items():
                if has_control(value):
                    return value, name
    return path, "path"
