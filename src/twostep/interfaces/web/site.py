"""``install(api)``: the pages on the API's app. The pages' own routes (not in the OpenAPI
description), the static files, the language switch (one per page set, at
``<set>/switch-language``: the form's token is bound to that set's session cookie, which the
browser sends to that set's addresses only), and the answer to a refused form."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from twostep.bootstrap import App
from twostep.domain.errors import CsrfRefused
from twostep.interfaces.web import i18n, page_errors, page_sets, security, texts
from twostep.interfaces.web.admin import AdminPages
from twostep.interfaces.web.hosted import HostedPages
from twostep.interfaces.web.lazy import LazyRoutes
from twostep.interfaces.web.my import routes as my_routes
from twostep.interfaces.web.page_sets import PageSet
from twostep.interfaces.web.pages import Pages, field, local_path, switch_path
from twostep.interfaces.web.portal import routes as portal_routes
from twostep.services.page_signin import PAGES, PageSignIn

STATIC = {
    "site.css": "text/css; charset=utf-8",
    "poll.js": "text/javascript; charset=utf-8",
    "import_job.js": "text/javascript; charset=utf-8",
}
_YEAR = 365 * 24 * 3600


def install(api: FastAPI) -> None:
    app: App = api.state.twostep
    pages = Pages(app)
    api.state.pages = pages
    signin = PageSignIn(app.deps, app.signin, app.challenges, app.delivered, PAGES)
    portal = AdminPages(pages, signin)
    api.state.admin_pages = portal

    def build() -> list[BaseRoute]:
        router = APIRouter(include_in_schema=False)
        portal.routes(router)
        portal_routes(router, portal)  # /admin and the management portal's pages
        HostedPages(pages, app.hosted_signin, signin).routes(router)  # /signin
        my_routes(router, pages)  # /my: the self-service portal
        _static(router)
        for page_set in page_sets.PAGE_SETS:
            switch = _language(pages, page_set)
            router.add_api_route(str(switch_path(page_set)), switch, methods=["POST"])
        return list(router.routes)

    # Built at the first request for a page (lazy.py): an app that shows none pays nothing.
    api.router.routes.append(LazyRoutes((*page_errors.PREFIXES, "/static"), build))

    async def refused(request: Request, exc: Exception) -> Response:
        from starlette.concurrency import run_in_threadpool

        visit = await run_in_threadpool(pages.visit, request)
        return pages.render(
            visit,
            "refused.html",
            status=403,
            title=texts.N_("Not allowed"),
            message=texts.CSRF_REFUSED,
        )

    api.add_exception_handler(CsrfRefused, refused)
    page_errors.install(api, pages)  # a page's error answers a page, the API's stay JSON


def _language(pages: Pages, page_set: PageSet) -> Callable[..., Response]:
    def language(
        request: Request,
        csrf: Annotated[str, Form()] = "",
        language: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = page_set.path,
    ) -> Response:
        """The language switch: a cookie that outranks the browser's Accept-Language. Back
        to the page it came from, one of this set's."""
        visit = pages.visit(request)
        pages.check_form(visit, csrf)
        back = local_path(field(next), page_set.path)
        response = pages.redirect(visit, back if page_set.holds(back) else page_set.path)
        chosen = i18n.supported(field(language))
        if chosen is not None:
            security.set_cookie(response, i18n.LANGUAGE_COOKIE, chosen, max_age=_YEAR)
        return response

    return language


def _static(router: APIRouter) -> None:
    folder = resources.files(__package__) / "static"
    files = {name: ((folder / name).read_bytes(), kind) for name, kind in STATIC.items()}

    def static(name: str) -> Response:
        found = files.get(name)
        if found is None:
            return security.secure(Response("not found", status_code=404, media_type="text/plain"))
        body, kind = found
        response = security.secure(Response(body, media_type=kind))
        response.headers["Cache-Control"] = "no-cache"  # revalidated: a new release shows
        return response

    router.add_api_route("/static/{name}", static, methods=["GET"])
