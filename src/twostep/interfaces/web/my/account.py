"""The rest of ``/my``: app passwords (created and shown once, deleted), recent sign-ins
with "not me", and the user's language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from twostep.domain.entities import MethodKind
from twostep.domain.errors import (
    AppPasswordExists,
    AppPasswordsNotAllowed,
    Conflict,
    InvalidInput,
    RegistrationFirst,
    TwostepError,
)
from twostep.interfaces.web import i18n, texts
from twostep.interfaces.web.my import words
from twostep.interfaces.web.my.base import PREFIX, Here, MyBase
from twostep.interfaces.web.pages import Visit, field

PASSWORDS = PREFIX + "/app-passwords"
SIGNINS = PREFIX + "/signins"


def when(at: float | None) -> str:
    """UTC, to the minute (the pages show every time this way)."""
    if at is None:
        return ""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


class MyAccount(MyBase):
    def routes(self, router: APIRouter) -> None:
        router.add_api_route(PASSWORDS, self.passwords, methods=["GET"])
        router.add_api_route(PASSWORDS, self.create_password, methods=["POST"])
        router.add_api_route(PASSWORDS + "/delete", self.delete_password, methods=["POST"])
        router.add_api_route(SIGNINS, self.signins, methods=["GET"])
        router.add_api_route(SIGNINS + "/report", self.report, methods=["POST"])
        router.add_api_route(PREFIX + "/language", self.language, methods=["POST"])

    def _signed_in(self, visit: Visit) -> Here | None:
        """Only a signed-in user who need not register first."""
        here = self.here(visit)
        if here is None or here.registering:
            return None
        return here

    def _post(self, request: Request, csrf: str) -> tuple[Visit, Here | None]:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        return visit, self._signed_in(visit)

    def _away(self, visit: Visit) -> Response:
        """Not signed in: the sign-in; may only register: the registration."""
        return self.pages.redirect(visit, PREFIX if self.here(visit) else PREFIX + "/signin")

    # -- app passwords -----------------------------------------------------------------

    def passwords(self, request: Request) -> Response:
        visit = self.pages.visit(request)
        here = self._signed_in(visit)
        if here is None:
            return self._away(visit)
        done = request.query_params.get("done", "")
        notice = words.DONE.get(done) if done == "deleted_password" else None
        return self._passwords(visit, here, notice=notice)

    def _passwords(
        self,
        visit: Visit,
        here: Here,
        *,
        made: str | None = None,
        made_name: str | None = None,
        message: str | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response:
        try:
            found = self.app.self_service.app_passwords(here.me)
        except RegistrationFirst:
            return self.pages.redirect(visit, PREFIX)
        return self.render(
            visit,
            "my/app_passwords.html",
            status=status,
            title=texts.N_("App passwords"),
            allowed=self.app.self_service.app_passwords_allowed(here.me),
            passwords=[(p.id, p.name, when(p.created_at), when(p.last_used_at)) for p in found],
            made=made,
            made_name=made_name,
            message=message,
            notice=notice,
        )

    def create_password(
        self, request: Request, csrf: Annotated[str, Form()] = "", name: Annotated[str, Form()] = ""
    ) -> Response:
        visit, here = self._post(request, csrf)
        if here is None:
            return self._away(visit)
        try:
            made = self.app.self_service.create_app_password(here.me, field(name))
        except AppPasswordsNotAllowed:
            return self._passwords(visit, here, message=words.NOT_ALLOWED, status=403)
        except (AppPasswordExists, Conflict):
            return self._passwords(visit, here, message=words.NAME_TAKEN, status=409)
        except InvalidInput:
            return self._passwords(visit, here, message=words.NAME_INVALID, status=422)
        # Shown on this answer only (no redirect: it is never stored to show again).
        return self._passwords(
            visit, here, made=made.password, made_name=made.app_password.name, status=201
        )

    def delete_password(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        app_password_id: Annotated[str, Form()] = "",
    ) -> Response:
        visit, here = self._post(request, csrf)
        if here is None:
            return self._away(visit)
        try:
            self.app.self_service.delete_app_password(here.me, field(app_password_id)[:32])
        except TwostepError:
            return self._passwords(visit, here, message=words.ENROLLMENT_EXPIRED, status=404)
        return self.pages.redirect(visit, f"{PASSWORDS}?done=deleted_password")

    # -- recent sign-ins ---------------------------------------------------------------

    def signins(self, request: Request) -> Response:
        visit = self.pages.visit(request)
        here = self._signed_in(visit)
        if here is None:
            return self._away(visit)
        try:
            recent = self.app.signin_reports.recent(here.me)
        except RegistrationFirst:
            return self.pages.redirect(visit, PREFIX)
        reported = request.query_params.get("done") == "reported"
        rows = [
            {
                "id": r.event.event_id,
                "at": when(r.event.at),
                "result": words.RESULTS.get(r.event.result, r.event.result),
                "method": _method_text(r.event.method),
                "where": r.event.integration or r.event.interface,
                "client_ip": r.event.client_ip or "",
                "reported": r.reported,
            }
            for r in recent
        ]
        return self.render(
            visit,
            "my/signins.html",
            title=texts.N_("Recent sign-ins"),
            rows=rows,
            notice=words.DONE["reported"] if reported else None,
        )

    def report(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        event_id: Annotated[str, Form()] = "",
    ) -> Response:
        visit, here = self._post(request, csrf)
        if here is None:
            return self._away(visit)
        try:
            self.app.signin_reports.report(here.me, field(event_id)[:36])
        except TwostepError:
            return self.pages.redirect(visit, SIGNINS)
        return self.pages.redirect(visit, f"{SIGNINS}?done=reported")

    # -- language ----------------------------------------------------------------------

    def language(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        language: Annotated[str, Form()] = "",
    ) -> Response:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        here = self.here(visit)
        if here is None:
            return self.to_signin(visit)
        chosen = i18n.supported(field(language))  # "" (or anything else): the browser's
        self.app.self_service.set_language(here.me, chosen)
        return self.pages.redirect(visit, f"{PREFIX}?done=language")


def _kind(value: str | None) -> MethodKind | None:
    try:
        return MethodKind(value or "")
    except ValueError:
        return None


def _method_text(value: str | None) -> str | None:
    kind = _kind(value)
    return texts.KINDS.get(kind) if kind is not None else None
