"""The token pool (paged by serial, filtered by a serial prefix) and imports: a PSKC or CSV
file with its key or password, read by the same importers as the CLI and the API
(interfaces/token_files.py), stored all or nothing. Posting the file starts an import job
(services/token_import_jobs.py: a background thread of this worker) and answers 303 to the
job's page, ``.../tokens/imports/<id>``, which any worker shows from the database: the
phase and its progress while it runs (static/import_job.js asks ``.../status`` each second
and updates the bar in place; without JavaScript the page reloads itself), then the
result: the count imported, or every problem with its place (line, key). The file and its
key or password stay in the job's closure, in this worker's memory, for the job's life."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from twostep.domain.entities import Method
from twostep.domain.errors import ImportRunning, TwostepError
from twostep.domain.permissions import Permission
from twostep.domain.text import printable_escape
from twostep.domain.token_imports import CHECKING as CHECKING_PHASE
from twostep.domain.token_imports import STORING as STORING_PHASE
from twostep.domain.token_imports import ImportProgress
from twostep.interfaces.token_files import ImportOptions, import_file
from twostep.interfaces.web import security, texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal.base import PAGE, Portal, Seat, tenant_path
from twostep.services.token_import_jobs import FILE_NAME, JobView, Stored
from twostep.services.tokens import ImportSummary

MAX_FILE = 20 * 1024 * 1024  # a vendor file of 100,000 tokens is well under this


class TokenPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def routes(self, router: APIRouter) -> None:
        base = "/admin/tenants/{tenant}/tokens"
        router.add_api_route(base, self.pool, methods=["GET"])
        router.add_api_route(base + "/import", self.upload, methods=["POST"])
        router.add_api_route(base + "/imports/{job_id}", self.job, methods=["GET"])
        router.add_api_route(base + "/imports/{job_id}/status", self.status, methods=["GET"])

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
        # Shown on the job's page and stored with it: a control character (NUL, which
        # PostgreSQL's text refuses) is kept visible as an escape, not stored.
        name = printable_escape(field(file.filename).strip(), FILE_NAME) or "-"
        app = self.portal.app

        def work(progress: ImportProgress, stored: Stored) -> ImportSummary:
            # Runs in the job's thread: the file and its secret live in this closure only.
            return import_file(app, seat.actor, tenant, data, options, progress, stored)

        def start() -> Response:
            if len(data) > MAX_FILE:
                return self._refused(seat, tenant, texts.N_("The file is too large."), [])
            try:
                job_id = app.token_imports.start(seat.actor, tenant, name, work)
            except ImportRunning:
                return self._refused(seat, tenant, RUNNING, [], status=409)
            except TwostepError as exc:
                return self.portal.failed(seat, exc)
            return self.portal.pages.redirect(
                seat.visit, tenant_path(tenant, "tokens", "imports", job_id)
            )

        return await run_in_threadpool(start)

    def job(self, request: Request, tenant: str, job_id: str) -> Response:
        seat = self.portal.seat(request, Permission.TOKENS_WRITE)
        if isinstance(seat, Response):
            return seat
        view = self.portal.call(
            seat, lambda: self.portal.app.token_imports.show(seat.actor, tenant, job_id[:64])
        )
        if isinstance(view, Response):
            return view
        text, value, most = _where(self.portal.pages.gettext(seat.visit.language), view)
        return self.portal.render(
            seat,
            "admin/token_import.html",
            tenant,
            title=texts.N_("Token import"),
            job=view,
            phase_text=text,
            value=value,
            most=most,
            path=lambda *parts: tenant_path(tenant, *parts),
        )

    def status(self, request: Request, tenant: str, job_id: str) -> Response:
        """The job's state for the page's script: the phase as the page words it."""
        seat = self.portal.seat(request, Permission.TOKENS_WRITE)
        if isinstance(seat, Response):
            return seat
        try:
            view = self.portal.app.token_imports.show(seat.actor, tenant, job_id[:64])
        except TwostepError:
            return security.secure(JSONResponse({"state": "missing"}, status_code=404))
        text, value, most = _where(self.portal.pages.gettext(seat.visit.language), view)
        answer = {
            "state": view.state,
            "phase": view.phase,
            "text": text,
            "value": value,
            "max": most,
        }
        return security.secure(JSONResponse(answer))

    def _refused(
        self,
        seat: Seat,
        tenant: str,
        why: str | None,
        problems: list[tuple[str, str]],
        status: int = 422,
    ) -> Response:
        found = self.portal.call(
            seat, lambda: list(self.portal.app.tokens.list(seat.actor, tenant, limit=PAGE + 1))
        )
        if isinstance(found, Response):
            return found
        return self._page(seat, tenant, "", found, status=status, refused=why, problems=problems)


RUNNING = texts.N_(
    "Another token import of this organisation is running. Wait for it to end (its page "
    "shows its progress), then upload the file again."
)
READING = texts.N_("Reading the file")
READ_PART = texts.N_("Reading the file: %(percent)s%% read")
CHECKING = texts.N_("Checking keys: %(done)s of %(total)s")
STORING = texts.N_("Storing %(total)s tokens, all or none")
STORED = texts.N_("Storing tokens: %(done)s of %(total)s checked and sealed")


def _where(gettext: Callable[[str], str], view: JobView) -> tuple[str, int, int]:
    """The phase in words, and the bar's value and maximum (maximum 0: a bar of unknown
    length). What is counted: a PSKC file's bytes parsed as its keys are read (their
    number is only known at the end), then its MACs and keys checked; a CSV file is not
    counted while it is read (its readers have no per-row hook); then the tokens checked
    and sealed while they are stored, which on SQLite only show once the store is over
    (its one writer is the import itself), so that phase is a bar of unknown length there."""
    done, total = view.done, view.total
    numbers = {"done": f"{done:,}", "total": f"{total:,}"}
    if view.phase == CHECKING_PHASE and total:
        return gettext(CHECKING) % numbers, done, total
    if view.phase == STORING_PHASE:
        if done and total:
            return gettext(STORED) % numbers, done, total
        return gettext(STORING) % numbers, 0, 0
    if done and total:
        return gettext(READ_PART) % {"percent": done * 100 // total}, done, total
    return gettext(READING), 0, 0
