"""The pages' routes are built at the first request for a page, not with the app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from twostep.bootstrap import App
from twostep.interfaces.http.app import create_app
from twostep.interfaces.web.lazy import LazyRoutes


def lazy_routes(api: object) -> LazyRoutes:
    [found] = [r for r in api.router.routes if isinstance(r, LazyRoutes)]  # type: ignore[attr-defined]
    return found


def test_an_app_that_shows_no_page_builds_no_page_route(app: App) -> None:
    api = create_app(app)
    with TestClient(api, base_url="https://mfa.test") as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/no-such-thing").status_code == 404
    assert lazy_routes(api)._routes is None


def test_the_first_page_request_builds_them_once(app: App) -> None:
    api = create_app(app)
    with TestClient(api, base_url="https://mfa.test") as client:
        assert client.get("/admin/signin").status_code == 200
        built = lazy_routes(api)._routes
        assert built
        assert client.get("/static/site.css").status_code == 200
        assert lazy_routes(api)._routes is built
