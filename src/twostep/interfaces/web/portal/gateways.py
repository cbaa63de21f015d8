"""Gateways (text, call and email providers, in failover order): list with each one's
health over the last day, add (its settings as the kind's JSON object, as the API takes
them; credentials are sealed and never shown again), delete; and the tenant's recorded
voice prompts (portal/voice_prompts.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from twostep.domain.errors import InvalidInput
from twostep.domain.permissions import Permission
from twostep.domain.voice_prompts import PROMPTS
from twostep.interfaces.web import texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal import words
from twostep.interfaces.web.portal.base import Portal, Seat, tenant_path

HEALTH_HOURS = 24


class GatewayPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def routes(self, router: APIRouter) -> None:
        base = "/admin/tenants/{tenant}/gateways"
        router.add_api_route(base, self.list, methods=["GET"])
        router.add_api_route(base, self.add, methods=["POST"])
        router.add_api_route(base + "/delete", self.delete, methods=["POST"])

    def list(self, request: Request, tenant: str) -> Response:
        seat = self.portal.seat(request, Permission.GATEWAYS_WRITE)
        if isinstance(seat, Response):
            return seat
        return self._page(seat, tenant)

    def _page(self, seat: Seat, tenant: str, status: int = 200, **values: object) -> Response:
        app = self.portal.app

        def load() -> tuple[Any, Any, Any]:
            prompts = (
                app.voice_prompts.list(seat.actor, tenant)
                if seat.can(Permission.SETTINGS_READ)
                else None
            )
            return (
                app.gateways.list(seat.actor, tenant),
                app.gateways.health(seat.actor, tenant, HEALTH_HOURS),
                prompts,
            )

        loaded = self.portal.call(seat, load)
        if isinstance(loaded, Response):
            return loaded
        gateways, health, prompts = loaded
        return self.portal.render(
            seat,
            "admin/gateways.html",
            tenant,
            status=status,
            title=texts.N_("Gateways"),
            gateways=gateways,
            health=health,
            hours=HEALTH_HOURS,
            kinds=sorted(app.gateways.specs.kinds()),
            prompts=prompts,
            prompt_names=PROMPTS,
            path=lambda *parts: tenant_path(tenant, *parts),
            **values,
        )

    def add(
        self,
        request: Request,
        tenant: str,
        csrf: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        kind: Annotated[str, Form()] = "",
        settings: Annotated[str, Form()] = "",
    ) -> Response:
        seat = self.portal.seat(request, Permission.GATEWAYS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat
        try:
            given = json.loads(field(settings) or "{}")
        except ValueError:
            given = None
        if not isinstance(given, dict):
            error = InvalidInput(words.NOT_JSON, field="settings")
            return self._page(seat, tenant, status=422, error=error, given=values_of(name, kind))
        added = self.portal.call(
            seat,
            lambda: self.portal.app.gateways.add(
                seat.actor, tenant, field(name).strip(), field(kind), given
            ),
        )
        if isinstance(added, Response):
            return added
        return self.portal.back(seat, tenant_path(tenant, "gateways"), "gateway_added")

    def delete(
        self,
        request: Request,
        tenant: str,
        csrf: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
    ) -> Response:
        seat = self.portal.seat(request, Permission.GATEWAYS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat
        done = self.portal.call(
            seat, lambda: self.portal.app.gateways.delete(seat.actor, tenant, field(name))
        )
        if isinstance(done, Response):
            return done
        return self.portal.back(seat, tenant_path(tenant, "gateways"), "gateway_deleted")


def values_of(name: str, kind: str) -> dict[str, str]:
    """What the form showed, back in it (never the settings: they may hold credentials)."""
    return {"name": field(name), "kind": field(kind)}
