"""The pages' routes, built when a request first comes for one of them.

FastAPI analyses every route's parameters when the route is made: for the pages' sixty-odd
routes that is about 0.1 s per app, paid by every process and every test that makes an app
and never shows a page. ``LazyRoutes`` stands in the app's router for all of them: the
first request whose path starts with one of the pages' prefixes builds them (once, under a
lock), and from then on it matches and hands over exactly as the routes themselves would.
Errors raised by a page still reach the app's exception handlers (the router runs inside
them)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

_CHOSEN = "twostep.page_route"


class LazyRoutes(BaseRoute):
    def __init__(self, prefixes: Sequence[str], build: Callable[[], list[BaseRoute]]) -> None:
        self.prefixes = tuple(prefixes)
        self._build = build
        self._routes: list[BaseRoute] | None = None
        self._lock = threading.Lock()

    @property
    def routes(self) -> list[BaseRoute]:
        if self._routes is None:
            with self._lock:
                if self._routes is None:
                    self._routes = self._build()
        return self._routes

    def _ours(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.prefixes)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or not self._ours(scope["path"]):
            return Match.NONE, {}
        partial: tuple[Match, Scope] | None = None
        for route in self.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return match, {**child, _CHOSEN: route}
            if match is Match.PARTIAL and partial is None:
                partial = match, {**child, _CHOSEN: route}
        return partial or (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope.pop(_CHOSEN)
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)
