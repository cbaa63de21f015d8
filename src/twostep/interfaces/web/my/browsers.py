"""``/my/browsers``: the browsers the user had remembered at the hosted sign-in page or
here (services/remembered_devices.py), each with "forget", and "forget all"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from twostep.interfaces.web import texts
from twostep.interfaces.web.my.account import when
from twostep.interfaces.web.my.base import PREFIX, MyBase
from twostep.interfaces.web.pages import field

BROWSERS = PREFIX + "/browsers"
PAGE_NAMES = {"signin": texts.N_("Sign-in page"), "my": texts.N_("This portal")}
FORGOTTEN = texts.N_("Forgotten. The next sign-in there asks for your second factor.")


class MyBrowsers(MyBase):
    def routes(self, router: APIRouter) -> None:
        router.add_api_route(BROWSERS, self.show, methods=["GET"])
        router.add_api_route(BROWSERS + "/forget", self.forget, methods=["POST"])

    def show(self, request: Request) -> Response:
        visit = self.pages.visit(request)
        here = self.here(visit)
        if here is None or here.registering:
            return self.pages.redirect(visit, PREFIX if here else PREFIX + "/signin")
        rows = [
            {
                "id": d.id,
                "label": d.label or "",
                "page": PAGE_NAMES.get(d.page, d.page),
                "created": when(d.created_at),
                "expires": when(d.expires_at),
                "used": when(d.last_used_at),
            }
            for d in self.app.remembered.of_user(here.me.user_id)
        ]
        done = request.query_params.get("done") == "forgotten"
        return self.render(
            visit,
            "my/browsers.html",
            title=texts.N_("Remembered browsers"),
            rows=rows,
            notice=FORGOTTEN if done else None,
        )

    def forget(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        device_id: Annotated[str, Form()] = "",
    ) -> Response:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        here = self.here(visit)
        if here is None or here.registering:
            return self.pages.redirect(visit, PREFIX if here else PREFIX + "/signin")
        one = field(device_id)[:32] or None  # none named: every one
        self.app.remembered.forget(here.me.user_id, one)
        return self.pages.redirect(visit, f"{BROWSERS}?done=forgotten")
