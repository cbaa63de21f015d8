"""Remembering a browser at a page set after its second factor (the hosted sign-in page
at ``/signin``, the self-service portal at ``/my``): the second-factor page offers "remember
this device for N days" while the tenant allows it; the cookie (``twostep_device``, scoped
to the page set's path) lets the next sign-in there skip the factor for the same user
(services/remembered_devices.py checks it)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from twostep.domain.remembered import Page
from twostep.interfaces.web import security
from twostep.interfaces.web.pages import Pages

COOKIE = "twostep_device"
_LABEL = 128


class Remember:
    def __init__(self, pages: Pages, page: Page, path: str) -> None:
        self.pages = pages
        self.page = page
        self.path = path

    def days(self, tenant_id: int) -> int | None:
        """The days a browser is remembered, to offer; None when the tenant does not."""
        with self.pages.app.storage.transaction() as tx:
            tenant = tx.tenants.by_id(tenant_id)
        if tenant is None or not tenant.settings.pages.remember_device_enabled:
            return None
        return tenant.settings.pages.remember_device_days

    def keep(self, response: Response, request: Request, tenant_id: int, user_id: int) -> None:
        """Remember this browser for this user (the second factor just accepted)."""
        label = request.headers.get("user-agent", "")[:_LABEL]
        made = self.pages.app.remembered.remember(tenant_id, user_id, self.page, label)
        if made is None:
            return
        value, seconds = made
        https = request.url.scheme == "https"
        security.set_device_cookie(response, COOKIE, value, seconds, self.path, https)

    def recognised(self, request: Request, tenant_id: int, user_id: int | None) -> bool:
        """This browser's cookie is a live remembered device of this user here."""
        cookie = request.cookies.get(COOKIE)
        if not cookie or user_id is None:
            return False
        return self.pages.app.remembered.check(cookie, tenant_id, user_id, self.page)
