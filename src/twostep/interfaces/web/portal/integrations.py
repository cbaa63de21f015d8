"""Integrations (API keys of the applications that ask for sign-ins) and RADIUS clients:
list, create, revoke or delete; an integration may be flagged to vouch for the client
addresses it sends (trusted networks). A new integration's key and a generated RADIUS secret are
shown once, on the answer to the post that made them (never stored in the clear, never
in a redirect's URL, never on a later page). The page and action flows are
portal/listing.py's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from twostep.domain.entities import RadiusClient, RadiusMode, RadiusPrimary
from twostep.domain.errors import InvalidInput
from twostep.domain.permissions import Permission
from twostep.interfaces.web import texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal.base import Portal, Seat
from twostep.interfaces.web.portal.listing import Listing, ShownOnce
from twostep.services import radius_options
from twostep.services.radius_clients import (
    MAX_PUSH_WAIT,
    NewRadiusClient,
    RadiusClientChange,
)


class IntegrationPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.listing = Listing(portal, Permission.INTEGRATIONS_WRITE, "integrations")

    def routes(self, router: APIRouter) -> None:
        base = "/admin/tenants/{tenant}/integrations"
        router.add_api_route(base, self.list, methods=["GET"])
        router.add_api_route(base, self.create, methods=["POST"])
        self.listing.on_name(router, "revoke", self._revoke, "revoked")
        router.add_api_route(base + "/trusted", self.trusted, methods=["POST"])
        router.add_api_route(base + "/radius", self.create_radius, methods=["POST"])
        self.listing.on_name(router, "radius/delete", self._delete_radius, "radius_deleted")
        router.add_api_route(base + "/radius/options", self.radius_options, methods=["POST"])

    def list(self, request: Request, tenant: str) -> Response:
        return self.listing.show(
            request, tenant, "admin/integrations.html", lambda seat: self._listed(seat, tenant)
        )

    def _listed(self, seat: Seat, tenant: str) -> dict[str, Any]:
        """The integrations apart from the RADIUS clients' own, and the RADIUS clients."""
        app = self.portal.app
        clients = list(app.radius_clients.list(seat.actor, tenant))
        names = {c.name for c in clients}
        found = app.admin.list_integrations(seat.actor, tenant)
        return {
            "title": texts.N_("Integrations and RADIUS clients"),
            "integrations": [i for i in found if i.name not in names],
            "clients": clients,
            "modes": [m.value for m in RadiusMode],
            "primaries": [p.value for p in RadiusPrimary],
            "max_wait": MAX_PUSH_WAIT,
        }

    def create(
        self,
        request: Request,
        tenant: str,
        csrf: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        legacy: Annotated[str, Form()] = "",
    ) -> Response:
        def make(seat: Seat) -> ShownOnce:
            integration, key = self.portal.app.admin.create_integration(
                seat.actor, tenant, field(name).strip(), legacy=legacy == "on"
            )
            return ShownOnce(
                title=texts.N_("Integration created"),
                name=integration.name,
                key_id=integration.key_id,
                secret=key,
                label=texts.N_("Integration key"),
            )

        return self.listing.make(request, tenant, csrf, make)

    def _revoke(self, seat: Seat, tenant: str, name: str) -> None:
        self.portal.app.admin.revoke_integration(seat.actor, tenant, name)

    def _delete_radius(self, seat: Seat, tenant: str, name: str) -> None:
        self.portal.app.radius_clients.delete(seat.actor, tenant, name)

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
        on = field(trusted) == "on"
        return self.listing.act(
            request,
            tenant,
            csrf,
            lambda seat: self.portal.app.admin.set_trusted_client_addresses(
                seat.actor, tenant, field(name), on
            ),
            "integration_changed",
        )

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
        def make(seat: Seat) -> ShownOnce:
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
            made = self.portal.app.radius_clients.create(seat.actor, tenant, new)
            return ShownOnce(
                title=texts.N_("RADIUS client created"),
                name=made.client.name,
                key_id=made.client.network,
                secret=made.secret,
                label=texts.N_("Shared secret"),
                warnings=made.warnings,
            )

        return self.listing.make(request, tenant, csrf, make)

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

        def change(seat: Seat) -> RadiusClient:
            lines = field(upstreams)
            given = radius_options.parse_lines(lines) if lines.strip() else None
            update = RadiusClientChange(
                require_user_match=require_user_match == "on",
                oath_fallback=oath_fallback == "on",
                primary=field(primary) or RadiusPrimary.NONE,
                upstreams=given,
            )
            return self.portal.app.radius_clients.update(seat.actor, tenant, field(name), update)

        return self.listing.act(request, tenant, csrf, change, "radius_updated")
