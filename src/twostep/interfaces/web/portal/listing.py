"""The flows the portal's list pages of a tenant share: integrations and RADIUS clients,
gateways, the sign-in audit and the admin trail. A :class:`Listing` is one such page,
``/admin/tenants/<tenant>/<part>``, with every page and action of it behind one permission:

* ``show`` and ``page``: a page of the tenant's with what it reads from the services, its
  links made by ``path(part, ...)``;
* ``act`` (``on_name``: routed, for a post that names one row): a post that changes
  something, then the list again with a notice;
* ``make``: a post that creates something with a secret, shown on this one answer (never
  stored in the clear, never in a redirect's URL, never on a later page);
* ``log_page`` and ``download`` (``log``: both routed): a page of a log by its store's
  sequence (``PAGE`` rows and the next page's link) and the same filters as CSV (up to
  ``CSV_ROWS`` rows from the page's start).

Each is ``flow``, the flow of every handler (portal/base.py): the seat (the role's
permission, and a post's form token before anything else), one service call, the answer.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TextIO, TypeVar

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from twostep.domain.permissions import Permission
from twostep.interfaces.web import security
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal.base import PAGE, Portal, Seat, tenant_path, when

BASE = "/admin/tenants/{tenant}"
CSV_ROWS = 1000  # the services' largest page
Values = Mapping[str, Any]  # a page's values, by name, as its template reads them


@dataclass(frozen=True, slots=True)
class ShownOnce:
    """What a post made, with its secret: the page that shows it once."""

    title: str  # the page's title, a message id
    name: str
    key_id: str
    secret: str | None  # None: none was generated (the admin gave it): nothing to show
    label: str  # what the secret is, a message id
    warnings: Sequence[str] = ()


class Filters(Protocol):
    """A log page's filters: as the page's query string, and where the page starts."""

    @property
    def after(self) -> int | None: ...

    def query(self) -> dict[str, str]: ...


class Sequenced(Protocol):
    @property
    def seq(self) -> int | None: ...


T = TypeVar("T")
F = TypeVar("F", bound=Filters)
R = TypeVar("R", bound=Sequenced)
# A log's query: the filters of the seat's request and at most ``limit`` rows of the tenant.
Fetch = Callable[[Seat, str, int], tuple[F, Sequence[R]]]


class Listing:
    def __init__(self, portal: Portal, permission: Permission, part: str) -> None:
        self.portal = portal
        self.permission = permission
        self.part = part

    def seat(self, request: Request, csrf: object = None) -> Seat | Response:
        return self.portal.seat(request, self.permission, csrf)

    def show(
        self, request: Request, tenant: str, template: str, load: Callable[[Seat], Values]
    ) -> Response:
        """A page (a GET): the seat, then ``page``."""
        seat = self.seat(request)
        if isinstance(seat, Response):
            return seat
        return self.page(seat, tenant, template, lambda: load(seat))

    def page(
        self,
        seat: Seat,
        tenant: str,
        template: str,
        load: Callable[[], Values],
        status: int = 200,
        **values: Any,
    ) -> Response:
        """The page with what ``load`` reads from the services (the page that says why one
        refused, in its place), and ``values`` (a refused form's, shown again)."""
        loaded = self.portal.call(seat, load)
        if isinstance(loaded, Response):
            return loaded
        return self.render(seat, template, tenant, status, **loaded, **values)

    def render(
        self, seat: Seat, template: str, tenant: str, status: int = 200, **values: Any
    ) -> Response:
        return self.portal.render(
            seat,
            template,
            tenant,
            status=status,
            path=lambda *parts: tenant_path(tenant, *parts),
            **values,
        )

    def back(self, seat: Seat, tenant: str, done: str) -> Response:
        """The list again, with a notice (one of ``words.NOTICES``)."""
        return self.portal.back(seat, tenant_path(tenant, self.part), done)

    def on_name(
        self, router: APIRouter, action: str, work: Callable[[Seat, str, str], object], done: str
    ) -> None:
        """Route ``<part>/<action>``: a post naming one row (``name``), which ``work(seat,
        tenant, name)`` changes or deletes; then the list with the notice ``done``."""

        def handler(
            request: Request,
            tenant: str,
            csrf: Annotated[str, Form()] = "",
            name: Annotated[str, Form()] = "",
        ) -> Response:
            return self.act(
                request, tenant, csrf, lambda seat: work(seat, tenant, field(name)), done
            )

        router.add_api_route(f"{BASE}/{self.part}/{action}", handler, methods=["POST"])

    def act(
        self, request: Request, tenant: str, csrf: str, work: Callable[[Seat], object], done: str
    ) -> Response:
        return self.flow(request, work, lambda seat, _: self.back(seat, tenant, done), csrf)

    def flow(
        self,
        request: Request,
        work: Callable[[Seat], T],
        answer: Callable[[Seat, T], Response],
        csrf: object = None,
    ) -> Response:
        """The seat (a post's form token first), ``work``'s one service call (the page that
        says why it refused, in its place), then ``answer``."""
        seat = self.seat(request, csrf)
        if isinstance(seat, Response):
            return seat
        done = self.portal.call(seat, lambda: work(seat))
        if isinstance(done, Response):
            return done
        return answer(seat, done)

    def make(
        self, request: Request, tenant: str, csrf: str, work: Callable[[Seat], ShownOnce]
    ) -> Response:
        def shown(seat: Seat, made: ShownOnce) -> Response:
            return self.portal.render(
                seat,
                "admin/secret_once.html",
                tenant,
                title=made.title,
                name=made.name,
                key_id=made.key_id,
                secret=made.secret,
                secret_label=made.label,
                warnings=made.warnings,
                back=tenant_path(tenant, self.part),
            )

        return self.flow(request, work, shown, csrf)

    def log(
        self,
        router: APIRouter,
        template: str,
        fetch: Fetch[F, R],
        write: Callable[[Seat, TextIO, Sequence[R]], None],
        **values: Any,
    ) -> None:
        """Route a log's page, ``<part>`` (``log_page``), and its download, ``<part>.csv``;
        ``fetch(seat, tenant, limit)`` reads the filters and the rows."""

        def page(request: Request, tenant: str) -> Response:
            return self.log_page(request, tenant, template, fetch, **values)

        def download(request: Request, tenant: str) -> Response:
            return self.download(request, tenant, fetch, write, self.part + ".csv")

        router.add_api_route(f"{BASE}/{self.part}", page, methods=["GET"])
        router.add_api_route(f"{BASE}/{self.part}.csv", download, methods=["GET"])

    def log_page(
        self,
        request: Request,
        tenant: str,
        template: str,
        fetch: Fetch[F, R],
        **values: Any,
    ) -> Response:
        """``PAGE`` rows, ``next_query`` (the next page's query string, None on the last) and
        ``csv_query`` (the download of the same filters from this page on)."""

        def listed(seat: Seat, found: tuple[F, Sequence[R]]) -> Response:
            f, rows = found
            shown = list(rows)[:PAGE]
            more = len(rows) > PAGE
            return self.render(
                seat,
                template,
                tenant,
                f=f,
                events=shown,
                next_query={**f.query(), "after": str(shown[-1].seq)} if more else None,
                csv_query={**f.query(), **({"after": str(f.after)} if f.after else {})},
                time=when,
                **values,
            )

        return self.flow(request, lambda seat: fetch(seat, tenant, PAGE + 1), listed)

    def download(
        self,
        request: Request,
        tenant: str,
        fetch: Fetch[F, R],
        write: Callable[[Seat, TextIO, Sequence[R]], None],
        name: str,
    ) -> Response:
        def written(seat: Seat, found: tuple[F, Sequence[R]]) -> Response:
            out = io.StringIO()
            write(seat, out, found[1])
            return csv_file(out.getvalue(), name)

        return self.flow(request, lambda seat: fetch(seat, tenant, CSV_ROWS), written)


def csv_file(body: str, name: str) -> Response:
    """A CSV download named ``name``, with the pages' security headers."""
    response = Response(body, media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return security.secure(response)
