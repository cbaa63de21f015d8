"""The hot routes, answered ahead of FastAPI's routes: ``POST /v1/validate`` and the
health probes (``/healthz``, ``/readyz``, ``/health``).

FastAPI's request handling (dependency solving, the body's content type read through
``email.message``, its telemetry hooks, the route's exit stacks) cost about a fifth of an
accepted validation's CPU (docs/performance.md, issue 13), and the probes were matched
after every other route. The routes here sit first in the router and answer the common
request themselves, through the same middleware (request ids, the text rule for the path,
the body limit, the latencies) and the same exception handlers (the one error mapper).
FastAPI's routes stay registered behind them: they describe the API (OpenAPI) and answer
everything else.

A validation is answered here only when the body is JSON (``Content-Type:
application/json``) that ``ValidateBody`` accepts, validated as FastAPI validates it (the
parsed object, the text rule included). Any other request (not JSON, malformed, invalid, a
control character, the client gone) is declined: handed back to the router, with the body
read so far replayed, for the FastAPI route to answer and audit exactly as before (the key
checked first, ``malformed_json``, ``invalid_request``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twostep.bootstrap import App
from twostep.interfaces.http.deps import bearer_key
from twostep.interfaces.http.routers import health
from twostep.interfaces.http.routers.validate import answer, decide
from twostep.interfaces.http.schemas import ValidateBody

VALIDATE = "/v1/validate"
_DECLINED = "twostep.hot_route_declined"  # in the scope: the router's second pass skips us
_JSON = b"application/json"

Endpoint = Callable[[Request], Awaitable[Response]]


class _Hot(BaseRoute):
    """One method on one exact path; anything else is left to the routes behind (so a 405
    or a redirect is FastAPI's, as before)."""

    include_in_schema = False

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path
        self.path_format = path  # what FastAPI's telemetry names the route

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] == "http"
            and scope["method"] == self.method
            and scope["path"] == self.path
            and not scope.get("root_path")  # mounted under a prefix: the routes behind
            and _DECLINED not in scope
        ):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)  # reached by the FastAPI routes' names


class Validate(_Hot):
    """``POST /v1/validate``: parse, one call, answer."""

    def __init__(self, router: ASGIApp) -> None:
        super().__init__("POST", VALIDATE)
        self.router = router

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages, body = await _read(receive)
        parsed = _parsed(scope, body) if body is not None else None
        if parsed is None:
            scope[_DECLINED] = True
            await self.router(scope, _replay(messages, receive), send)
            return
        app: App = scope["app"].state.twostep
        # A domain error goes up to the app's exception handlers (the one error mapper).
        response = answer(await decide(app, bearer_key(scope["headers"]), parsed))
        await response(scope, receive, send)


class Probe(_Hot):
    """``GET`` of a health route, answered by its own endpoint."""

    def __init__(self, path: str, endpoint: Endpoint) -> None:
        super().__init__("GET", path)
        self.endpoint = endpoint

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.endpoint(Request(scope, receive, send))
        await response(scope, receive, send)


async def _ok(_request: Request) -> Response:
    return JSONResponse(await health.healthz())


async def _ready(request: Request) -> Response:
    return await health.readyz(request, request.app.state.twostep)


def routes(router: ASGIApp) -> list[BaseRoute]:
    """The hot routes, to be put first in ``router`` (whose routes answer what they
    decline)."""
    return [
        Validate(router),
        Probe("/healthz", _ok),
        Probe("/readyz", _ready),
        Probe("/health", _ok),
    ]


async def _read(receive: Receive) -> tuple[list[Message], bytes | None]:
    """Every message of the body as received, and the body (None: the client left)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] == "http.disconnect":
            return messages, None
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` as if nothing had been read from it yet."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _parsed(scope: Scope, body: bytes) -> ValidateBody | None:
    """The body, when FastAPI would take it as this JSON (None: let FastAPI answer)."""
    if not body or not _is_json(scope):
        return None
    try:
        return ValidateBody.model_validate(json.loads(body))
    except (ValueError, RecursionError):  # malformed or invalid (ValidationError is one)
        return None


def _is_json(scope: Scope) -> bool:
    """The first ``Content-Type`` is ``application/json``, parameters aside (what FastAPI
    reads as JSON besides: ``+json`` types, odd spacing; those are declined)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type: bytes = value.split(b";", 1)[0].strip(b" \t").lower()
            return media_type == _JSON
    return False
