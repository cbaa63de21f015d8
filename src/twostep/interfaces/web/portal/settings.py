"""Tenant settings: every setting of the model (domain/settings.py) with its range, choices
and help text, read from the model (a new setting appears by itself); a refused value is
shown by its field, the other values kept as typed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from twostep.domain.errors import InvalidInput, InvalidSetting, TwostepError
from twostep.domain.permissions import Permission
from twostep.domain.settings import RANGES
from twostep.interfaces.web import texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal import words
from twostep.interfaces.web.portal.base import Portal, Seat, tenant_path
from twostep.interfaces.web.portal.setting_texts import properties, sections

SECTIONS = {
    "general": texts.N_("General"),
    "otp": texts.N_("Codes"),
    "lockout": texts.N_("Lockout"),
    "phone": texts.N_("Text messages and calls"),
    "email": texts.N_("Email"),
    "push": texts.N_("Push"),
    "audit": texts.N_("Audit"),
    "access": texts.N_("Access and registration"),
    "pages": texts.N_("Pages"),
}
_MAX_ITEMS = 1000


class SettingsPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def routes(self, router: APIRouter) -> None:
        base = "/admin/tenants/{tenant}/settings"
        router.add_api_route(base, self.show, methods=["GET"])
        router.add_api_route(base, self.save, methods=["POST"])

    def show(self, request: Request, tenant: str) -> Response:
        seat = self.portal.seat(request, Permission.SETTINGS_READ)
        if isinstance(seat, Response):
            return seat
        found = self.portal.call(seat, lambda: self.portal.app.admin.get_tenant(seat.actor, tenant))
        if isinstance(found, Response):
            return found
        return self._page(seat, tenant, found.settings.to_dict())

    def _page(
        self,
        seat: Seat,
        tenant: str,
        values: dict[str, Any],
        status: int = 200,
        errors: dict[str, str] | None = None,
        detail: str | None = None,
    ) -> Response:
        return self.portal.render(
            seat,
            "admin/settings.html",
            tenant,
            status=status,
            title=texts.N_("Settings"),
            sections=[(SECTIONS.get(name, name), keys) for name, keys in sections()],
            props=properties(),
            values=values,
            errors=errors or {},
            detail=detail,
            action=tenant_path(tenant, "settings"),
        )

    async def save(self, request: Request, tenant: str) -> Response:
        form = await request.form(max_files=0, max_fields=200)
        sent = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        return await run_in_threadpool(self._save, request, tenant, sent)

    def _save(self, request: Request, tenant: str, sent: dict[str, str]) -> Response:
        seat = self.portal.seat(request, Permission.SETTINGS_WRITE, sent.get("csrf"))
        if isinstance(seat, Response):
            return seat
        app = self.portal.app
        found = self.portal.call(seat, lambda: app.admin.get_tenant(seat.actor, tenant))
        if isinstance(found, Response):
            return found
        current = found.settings.to_dict()
        typed = {key: parse(prop, sent.get(key)) for key, prop in properties().items()}
        changes = {k: v for k, v in typed.items() if v != current.get(k)}
        try:
            app.admin.update_settings(seat.actor, tenant, changes)
        except InvalidInput as exc:
            name = exc.field or ""
            shown = {**current, **typed}
            errors = {name: error_text(exc)}
            return self._page(seat, tenant, shown, 422, errors, exc.message)
        except TwostepError as exc:
            return self.portal.failed(seat, exc)
        return self.portal.back(seat, tenant_path(tenant, "settings"), "settings")


def parse(prop: dict[str, Any], value: str | None) -> Any:
    """A form field as the setting's type; what does not parse is passed on as typed, for
    the model to refuse with its own message."""
    kind = prop.get("type")
    if kind == "boolean":
        return value == "on"
    text = field(value)
    if kind == "integer":
        try:
            return int(text.strip())
        except ValueError:
            return text
    if kind == "array":
        items = [line.strip() for line in text.splitlines()]  # one a line: a DN has commas
        return [i for i in items if i][:_MAX_ITEMS]
    return text


def error_text(exc: InvalidInput) -> str:
    bounds = RANGES.get(exc.field or "") if isinstance(exc, InvalidSetting) else None
    return words.RANGE_ERROR if bounds is not None else words.SETTING_ERROR
