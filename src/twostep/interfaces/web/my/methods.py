"""The user's security info at ``/my``: their methods and devices, and adding one (an
authenticator app with its QR code and secret, a mobile authenticator's activation, a
phone proved by the code sent to it), choosing the default, removing one. A session that
may only register sees the registration page here, with the same forms."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from twostep.domain.entities import MethodKind
from twostep.domain.errors import (
    ConfirmationFailed,
    Conflict,
    InvalidPhoneNumber,
    MethodDisabled,
    MethodNotFound,
    NotFound,
    NumberNotAllowed,
    RateLimited,
    ResendRefused,
    TwostepError,
)
from twostep.domain.results import Result
from twostep.factors import registry
from twostep.interfaces import qr
from twostep.interfaces.web import texts
from twostep.interfaces.web.my import words
from twostep.interfaces.web.my.base import PREFIX, Here, MyBase
from twostep.interfaces.web.pages import Visit, field
from twostep.services.self_phone import phone_kinds

_DONE = frozenset(words.DONE)


def _kind(value: str) -> MethodKind | None:
    try:
        kind = MethodKind(value)
    except ValueError:
        return None
    return kind if kind in phone_kinds() else None


class MyMethods(MyBase):
    def routes(self, router: APIRouter) -> None:
        router.add_api_route(PREFIX, self.home, methods=["GET"])
        router.add_api_route(PREFIX + "/app", self.add_app, methods=["POST"])
        router.add_api_route(PREFIX + "/app/confirm", self.confirm_app, methods=["POST"])
        router.add_api_route(PREFIX + "/device", self.device, methods=["POST"])
        router.add_api_route(PREFIX + "/done", self.done, methods=["POST"])
        router.add_api_route(PREFIX + "/phone", self.phone, methods=["POST"])
        router.add_api_route(PREFIX + "/phone/confirm", self.confirm_phone, methods=["POST"])
        router.add_api_route(PREFIX + "/default", self.default, methods=["POST"])
        router.add_api_route(PREFIX + "/delete", self.delete, methods=["POST"])

    # -- the page ----------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        visit = self.pages.visit(request)
        here = self.here(visit)
        if here is None:
            return self.to_signin(visit)
        done = request.query_params.get("done", "")
        return self._home(visit, here, notice=words.DONE[done] if done in _DONE else None)

    def _home(
        self,
        visit: Visit,
        here: Here,
        *,
        message: str | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response:
        info = self.app.self_service.info(here.me)
        must = here.registering or info.reason is not None
        return self.render(
            visit,
            "my/register.html" if must else "my/home.html",
            status=status,
            title=texts.N_("Register a method") if must else texts.N_("Your security info"),
            info=info,
            kinds=texts.KINDS,
            statuses=words.STATUSES,
            phone_kinds=[(k.value, texts.KINDS[k]) for k in phone_kinds()],
            message=message,
            notice=notice,
        )

    def _here(self, request: Request, csrf: str) -> tuple[Visit, Here | None]:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        return visit, self.here(visit)

    # -- an authenticator app ----------------------------------------------------------

    def add_app(self, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        visit, here = self._here(request, csrf)
        if here is None:
            return self.to_signin(visit)
        try:
            added = self.app.self_service.add_app(here.me, texts.N_("Authenticator app"))
        except MethodDisabled:
            return self._home(visit, here, message=words.NOT_ALLOWED, status=403)
        secret = parse_qs(urlsplit(added.otpauth_uri).query).get("secret", [""])[0]
        return self._app_page(visit, added.method.id, qr.png_data_uri(added.otpauth_uri), secret)

    def _app_page(
        self,
        visit: Visit,
        method_id: str,
        image: str | None,
        secret: str | None,
        message: str | None = None,
        status: int = 200,
    ) -> Response:
        return self.render(
            visit,
            "my/app.html",
            status=status,
            title=texts.N_("Add an authenticator app"),
            method_id=method_id,
            image=image,
            secret=secret,
            message=message,
        )

    def confirm_app(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        method_id: Annotated[str, Form()] = "",
        code: Annotated[str, Form()] = "",
    ) -> Response:
        visit, here = self._here(request, csrf)
        if here is None:
            return self.to_signin(visit)
        method = field(method_id)[:32]
        try:
            self.app.self_service.confirm_app(here.me, method, field(code).strip())
        except ConfirmationFailed:  # the QR code was shown once: the form alone comes back
            return self._app_page(visit, method, None, None, words.CODE_WRONG, 422)
        except (MethodNotFound, Conflict):
            return self._home(visit, here, message=words.ENROLLMENT_EXPIRED, status=404)
        return self.registered(visit, here, "app")

    # -- a mobile authenticator --------------------------------------------------------

    def device(self, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        visit, here = self._here(request, csrf)
        if here is None:
            return self.to_signin(visit)
        started = self.app.self_service.start_activation(here.me)
        return self.render(
            visit,
            "my/device.html",
            title=texts.N_("Activate the mobile authenticator"),
            image=qr.png_data_uri(started.uri),
            code=started.code,
            url=started.url,
        )

    def done(self, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        """After activating on the phone: a registration session goes on if it did."""
        visit, here = self._here(request, csrf)
        if here is None:
            return self.to_signin(visit)
        if self.app.self_service.info(here.me).reason is not None:
            return self._home(visit, here, message=words.REGISTER_FIRST, status=409)
        return self.registered(visit, here, "device")

    # -- a phone -------------------------------------------------------------------------

    def phone(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        kind: Annotated[str, Form()] = "",
        phone: Annotated[str, Form()] = "",
        replaces: Annotated[str, Form()] = "",
    ) -> Response:
        visit, here = self._here(request, csrf)
        if here is None:
            return self.to_signin(visit)
        chosen, old = _kind(field(kind)), field(replaces)[:32] or None
        if chosen is None:
            return self._home(visit, here, message=words.NUMBER_REFUSED, status=422)
        try:
            started = self.app.phones.start(here.me, chosen, field(phone).strip(), None, old)
        except InvalidPhoneNumber:
            return self._home(visit, here, message=words.NUMBER_INVALID, status=422)
        except (NumberNotAllowed, MethodDisabled, NotFound):
            return self._home(visit, here, message=words.NUMBER_REFUSED, status=422)
        decision = started.decision
        if decision.result is not Result.CHALLENGE or decision.transaction_id is None:
            message = texts.reason_text(decision.reason)
            return self._home(visit, here, message=message, status=422)
        return self._phone_page(visit, started.method.id, decision.transaction_id, chosen, old)

    def _phone_page(
        self,
        visit: Visit,
        method_id: str,
        transaction_id: str,
        kind: MethodKind,
        replaces: str | None,
        message: str | None = None,
        status: int = 200,
    ) -> Response:
        rules = registry.kind(kind).challenge  # a typed code (a text), or answered there
        rules_typed = rules is not None and rules.typed
        return self.render(
            visit,
            "my/phone.html",
            status=status,
            title=texts.N_("Confirm your phone number"),
            method_id=method_id,
            transaction_id=transaction_id,
            kind=kind.value,
            kind_text=texts.KINDS[kind],
            typed=rules_typed,
            replaces=replaces or "",
            message=message,
        )

    def confirm_phone(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        method_id: Annotated[str, Form()] = "",
        transaction_id: Annotated[str, Form()] = "",
        kind: Annotated[str, Form()] = "",
        replaces: Annotated[str, Form()] = "",
        code: Annotated[str, Form()] = "",
        action: Annotated[str, Form()] = "confirm",
    ) -> Response:
        visit, here = self._here(request, csrf)
        if here is None:
            return self.to_signin(visit)
        method, tx = field(method_id)[:32], field(transaction_id)[:64]
        chosen, old = _kind(field(kind)), field(replaces)[:32] or None
        if chosen is None:
            return self._home(visit, here, message=words.ENROLLMENT_EXPIRED, status=404)
        phones = self.app.phones
        try:
            if action == "resend":
                phones.resend(here.me, method, tx)
                return self._phone_page(visit, method, tx, chosen, old, texts.RESENT)
            decision = phones.confirm(here.me, method, tx, field(code).strip() or None, old)
        except (ResendRefused, RateLimited):
            return self._phone_page(visit, method, tx, chosen, old, texts.RESEND_REFUSED, 409)
        except TwostepError:
            return self._home(visit, here, message=words.ENROLLMENT_EXPIRED, status=404)
        if decision.result is Result.ACCEPT:
            return self.registered(visit, here, "phone")
        if decision.result is Result.CHALLENGE:
            return self._phone_page(visit, method, tx, chosen, old, texts.STILL_WAITING)
        message = texts.reason_text(decision.reason)
        return self._phone_page(visit, method, tx, chosen, old, message, 422)

    # -- managing ----------------------------------------------------------------------

    def default(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        method_id: Annotated[str, Form()] = "",
    ) -> Response:
        visit, here = self._here(request, csrf)
        if here is None or here.registering:
            return self.to_signin(visit) if here is None else self.pages.redirect(visit, PREFIX)
        try:
            self.app.self_service.set_default(here.me, field(method_id)[:32])
        except TwostepError:
            return self._home(visit, here, message=words.ENROLLMENT_EXPIRED, status=409)
        return self.pages.redirect(visit, f"{PREFIX}?done=default")

    def delete(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        method_id: Annotated[str, Form()] = "",
    ) -> Response:
        visit, here = self._here(request, csrf)
        if here is None or here.registering:
            return self.to_signin(visit) if here is None else self.pages.redirect(visit, PREFIX)
        try:
            self.app.self_service.delete_method(here.me, field(method_id)[:32])
        except Conflict:
            return self._home(visit, here, message=words.LAST_METHOD, status=409)
        except TwostepError:
            return self._home(visit, here, message=words.ENROLLMENT_EXPIRED, status=404)
        return self.pages.redirect(visit, f"{PREFIX}?done=deleted")
