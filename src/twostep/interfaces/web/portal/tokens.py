"""The token pool (paged by serial, filtered by a serial prefix) and imports: a PSKC or CSV
file with its key or password, read by the same importers as the CLI and the API
(interfaces/token_files.py), stored all or nothing. A refused file lists every problem with
its place (line, key). The import is synchronous: its answer is the result page ("N tokens
imported"), not a progress bar; a file of 10,000 tokens takes a few seconds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from twostep.domain.entities import Method
from twostep.domain.errors import TwostepError
from twostep.domain.permissions import Permission
from twostep.domain.tokens import ImportRefused
from twostep.interfaces.token_files import ImportOptions, import_file
from twostep.interfaces.web import texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal.base import PAGE, Portal, Seat, tenant_path

MAX_FILE = 20 * 1024 * 1024  # a vendor file of 100,000 tokens is well under this


class TokenPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def routes(self, router: APIRouter) -> None:
        base = "/admin/tenants/{tenant}/tokens"
        router.add_api_route(base, self.pool, methods=["GET"])
        router.add_api_route(base + "/import", self.upload, methods=["POST"])

    def pool(
        self, request: Request, tenant: str, serial: str = "", after: str | None = None
    ) -> Response:
        seat = self.portal.seat(request, Permission.TOKENS_WRITE)
        if isinstance(seat, Response):
            return seat
        prefix, cursor = field(serial).strip()[:64], field(after)[:64] or None
        found = self.portal.call(
            seat,
            lambda: self.portal.app.tokens.list(
                seat.actor, tenant, serial_prefix=prefix or None, after=cursor, limit=PAGE + 1
            ),
        )
        if isinstance(found, Response):
            return found
        return self._page(seat, tenant, prefix, list(found))

    def _page(
        self,
        seat: Seat,
        tenant: str,
        prefix: str,
        found: list[Method],
        status: int = 200,
        **values: object,
    ) -> Response:
        shown = found[:PAGE]
        return self.portal.render(
            seat,
            "admin/tokens.html",
            tenant,
            status=status,
            title=texts.N_("Hardware tokens"),
            serial=prefix,
            tokens=shown,
            next_after=shown[-1].serial if len(found) > PAGE else None,
            path=lambda *parts: tenant_path(tenant, *parts),
            **values,
        )

    async def upload(
        self,
        request: Request,
        tenant: str,
        file: Annotated[UploadFile, File()],
        csrf: Annotated[str, Form()] = "",
        key: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        update: Annotated[str, Form()] = "",
    ) -> Response:
        seat = await run_in_threadpool(self.portal.seat, request, Permission.TOKENS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat
        data = await file.read(MAX_FILE + 1)
        options = ImportOptions(
            key_hex=field(key).strip() or None,
            password=field(password) or None,
            update=update == "on",
        )
        app = self.portal.app

        def work() -> Response:
            if len(data) > MAX_FILE:
                return self._refused(seat, tenant, texts.N_("The file is too large."), [])
            try:
                summary = import_file(app, seat.actor, tenant, data, options)
            except ImportRefused as refused:
                rows = [(p.where, p.reason) for p in refused.problems]
                return self._refused(seat, tenant, None, rows)
            except TwostepError as exc:
                return self.portal.failed(seat, exc)
            return self.portal.render(
                seat,
                "admin/imported.html",
                tenant,
                title=texts.N_("Tokens imported"),
                summary=summary,
                path=lambda *parts: tenant_path(tenant, *parts),
            )

        return await run_in_threadpool(work)

    def _refused(
        self, seat: Seat, tenant: str, why: str | None, problems: list[tuple[str, str]]
    ) -> Response:
        found = self.portal.call(
            seat, lambda: list(self.portal.app.tokens.list(seat.actor, tenant, limit=PAGE + 1))
        )
        if isinstance(found, Response):
            return found
        return self._page(seat, tenant, "", found, status=422, refused=why, problems=problems)
