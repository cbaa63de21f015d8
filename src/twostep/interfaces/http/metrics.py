"""``GET /metrics`` behind the metrics token, and the validate API's latencies.

Secure by default: without ``metrics_token`` the route answers 404 and nothing is counted
(the app is built without metrics). With it, a scrape must send ``Authorization: Bearer``
and the token, compared in constant time; anything else answers 401.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.errors import NotFound, Unauthenticated

if TYPE_CHECKING:
    from twostep.adapters.metrics import PrometheusMetrics


def enabled(token_set: bool) -> PrometheusMetrics | None:
    """The metrics of a serving process, when a token lets them be read. Imported here, in
    the worker: ``serve`` sets the multiprocess directory before it forks."""
    if not token_set:
        return None
    from twostep.adapters.metrics import PrometheusMetrics, multiprocess_dir

    return PrometheusMetrics(multiprocess_dir())


def _route(method: str, path: str) -> str | None:
    """The validate API's routes by the name their latency is filed under."""
    if not path.startswith("/v1/"):
        return None
    parts = path[4:].rstrip("/").split("/")
    if parts[0] == "validate":
        if len(parts) == 1:
            return "validate" if method == "POST" else None
        if len(parts) == 2:
            return {"POST": "challenge_answer", "GET": "challenge_wait"}.get(method)
        if len(parts) == 3 and parts[2] == "resend" and method == "POST":
            return "challenge_resend"
        return None
    if parts[0] == "devices" and len(parts) == 4 and parts[2] == "requests":
        return "challenge_answer" if method == "POST" else None  # a push approved or denied
    return None


class Latency:
    """Times the validate API's requests (to the end of the response); others pass by."""

    def __init__(self, app: ASGIApp, metrics: PrometheusMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _route(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.metrics.http_request(route, time.perf_counter() - started)


def install(api: FastAPI) -> None:
    wired = api.state.twostep
    metrics: PrometheusMetrics | None = wired.metrics
    token = wired.config.server.metrics_token
    if metrics is not None:
        api.add_middleware(Latency, metrics=metrics)

    @api.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        if metrics is None or token is None:
            raise NotFound("no such path")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = token.get_secret_value().encode("utf-8")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("latin-1"), expected
        ):
            raise Unauthenticated("send the metrics token: Authorization: Bearer <token>")
        body, content_type = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=content_type)


def build_counted(config: Config) -> App:
    """The serving process's wiring, counted when a metrics token is set."""
    return build(config, metrics=enabled(config.server.metrics_token is not None))
