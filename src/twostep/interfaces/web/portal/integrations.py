"""Integrations (API keys of the applications that ask for sign-ins) and RADIUS clients:
list, create, revoke or delete; an integration may be flagged to vouch for the client
addresses it sends (trusted networks). A new integration's key and a generated RADIUS secret are
shown once, on the answer to the post that made them (never stored in the clear, never
in a redirect's URL, never on a later page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from twostep.domain.entities import Integration, RadiusClient, RadiusMode, RadiusPrimary
from twostep.domain.errors import InvalidInput
from twostep.domain.permissions import Permission
from twostep.interfaces.web import texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal.base import Portal, Seat, tenant_path
from twostep.services import radius_options
from twostep.services.radius_clients import (
    MAX_PUSH_WAIT,
    CreatedRadiusClient,
    NewRadiusClient,
    RadiusClientChange,
)


class IntegrationPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def routes(self, router: APIRouter) -> None:
        base = "/admin/tenants/{tenant}/integrations"
        router.add_api_route(base, self.list, methods=["GET"])
        router.add_api_route(base, self.create, methods=["POST"])
        router.add_api_route(base + "/revoke", self.revoke, methods=["POST"])
        router.add_api_route(base + "/trusted", self.trusted, methods=["POST"])
        router.add_api_route(base + "/radius", self.create_radius, methods=["POST"])
        router.add_api_route(base + "/radius/delete", self.delete_radius, methods=["POST"])
        router.add_api_route(base + "/radius/options", self.radius_options, methods=["POST"])

    def list(self, request: Request, tenant: str) -> Response:
        seat = self.portal.seat(request, Permission.INTEGRATIONS_WRITE)
        if isinstance(seat, Response):
            return seat
        return self._page(seat, tenant)

    def _page(self, seat: Seat, tenant: str, status: int = 200, **values: object) -> Response:
        app = self.portal.app

        def load() -> tuple[list[Integration], list[RadiusClient]]:
            clients = list(app.radius_clients.list(seat.actor, tenant))
            names = {c.name for c in clients}
            found = app.admin.list_integrations(seat.actor, tenant)
            return [i for i in found if i.name not in names], clients

        loaded = self.portal.call(seat, load)
        if isinstance(loaded, Response):
            return loaded
        integrations, clients = loaded
        return self.portal.render(
            seat,
            "admin/integrations.html",
            tenant,
            status=status,
            title=texts.N_("Integrations and RADIUS clients"),
            integrations=integrations,
            clients=clients,
            modes=[m.value for m in RadiusMode],
            primaries=[p.value for p in RadiusPrimary],
            max_wait=MAX_PUSH_WAIT,
            path=lambda *parts: tenant_path(tenant, *parts),
            **values,
        )

    def create(
        self,
        request: Request,
        tenant: str,
        csrf: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        legacy: Annotated[str, Form()] = "",
    ) -> Response:
        seat = self.portal.seat(request, Permission.INTEGRATIONS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat
        made = self.portal.call(
            seat,
            lambda: self.portal.app.admin.create_integration(
                seat.actor, tenant, field(name).strip(), legacy=legacy == "on"
            ),
        )
        if isinstance(made, Response):
            return made
        integration, key = made
        return self.portal.render(
            seat,
            "admin/secret_once.html",
            tenant,
            title=texts.N_("Integration created"),
            name=integration.name,
            key_id=integration.key_id,
            secret=key,
            secret_label=texts.N_("Integration key"),
            back=tenant_path(tenant, "integrations"),
        )

    def revoke(
        self,
        request: Request,
        tenant: str,
        csrf: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
    ) -> Response:
        seat = self.portal.seat(request, Permission.INTEGRATIONS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat
        done = self.portal.call(
            seat, lambda: self.portal.app.admin.revoke_integration(seat.actor, tenant, field(name))
        )
        if isinstance(done, Response):
            return done
        return self.portal.back(seat, tenant_path(tenant, "integrations"), "revoked")

    def trusted(
        self,
        request: Request,
        tenant: str,
        csrf: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        trusted: Annotated[str, Form()] = "",
    ) -> Response:
        """Flag (``trusted`` "on") or unflag the integration ``name``: whether the client
        addresses it sends may meet the tenant's trusted networks."""
        seat = self.portal.seat(request, Permission.INTEGRATIONS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat
        on = field(trusted) == "on"
        done = self.portal.call(
            seat,
            lambda: self.portal.app.admin.set_trusted_client_addresses(
                seat.actor, tenant, field(name), on
            ),
        )
        if isinstance(done, Response):
            return done
        return self.portal.back(seat, tenant_path(tenant, "integrations"), "integration_changed")

    def create_radius(
        self,
        request: Request,
        tenant: str,
        csrf: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        network: Annotated[str, Form()] = "",
        mode: Annotated[str, Form()] = "",
        push_wait: Annotated[str, Form()] = "25",
    ) -> Response:
        seat = self.portal.seat(request, Permission.INTEGRATIONS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat

        def make() -> CreatedRadiusClient:
            try:
                wait = int(field(push_wait))
            except ValueError:
                raise InvalidInput(
                    "push_wait_seconds must be a number", field="push_wait"
                ) from None
            new = NewRadiusClient(
                name=field(name).strip(),
                network=field(network).strip(),
                mode=field(mode) or RadiusMode.SECOND_FACTOR,
                push_wait_seconds=wait,
            )
            return self.portal.app.radius_clients.create(seat.actor, tenant, new)

        made = self.portal.call(seat, make)
        if isinstance(made, Response):
            return made
        return self.portal.render(
            seat,
            "admin/secret_once.html",
            tenant,
            title=texts.N_("RADIUS client created"),
            name=made.client.name,
            key_id=made.client.network,
            secret=made.secret,
            secret_label=texts.N_("Shared secret"),
            warnings=made.warnings,
            back=tenant_path(tenant, "integrations"),
        )

    def delete_radius(
        self,
        request: Request,
        tenant: str,
        csrf: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
    ) -> Response:
        seat = self.portal.seat(request, Permission.INTEGRATIONS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat
        done = self.portal.call(
            seat, lambda: self.portal.app.radius_clients.delete(seat.actor, tenant, field(name))
        )
        if isinstance(done, Response):
            return done
        return self.portal.back(seat, tenant_path(tenant, "integrations"), "radius_deleted")

    def radius_options(
        self,
        request: Request,
        tenant: str,
        csrf: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        require_user_match: Annotated[str, Form()] = "",
        oath_fallback: Annotated[str, Form()] = "",
        primary: Annotated[str, Form()] = "",
        upstreams: Annotated[str, Form()] = "",
    ) -> Response:
        """MFA Server's options of a client. The upstream servers' field is write-only:
        left blank, the servers and their secrets are kept (never shown again)."""
        seat = self.portal.seat(request, Permission.INTEGRATIONS_WRITE, csrf)
        if isinstance(seat, Response):
            return seat

        def change() -> RadiusClient:
            lines = field(upstreams)
            given = radius_options.parse_lines(lines) if lines.strip() else None
            update = RadiusClientChange(
                require_user_match=require_user_match == "on",
                oath_fallback=oath_fallback == "on",
                primary=field(primary) or RadiusPrimary.NONE,
                upstreams=given,
            )
            return self.portal.app.radius_clients.update(seat.actor, tenant, field(name), update)

        done = self.portal.call(seat, change)
        if isinstance(done, Response):
            return done
        return self.portal.back(seat, tenant_path(tenant, "integrations"), "radius_updated")
