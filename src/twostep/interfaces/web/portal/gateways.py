"""Gateways (text, call and email providers, in failover order): list with each one's
health over the last day, add and change (a form per kind, its labelled fields read from the
kind's settings model: portal/gateway_forms.py; credentials are sealed, never shown again,
and a blank one keeps the stored value; a refusal is shown beside its field), delete; and
the tenant's recorded voice prompts (portal/voice_prompts.py). The page and action flows are
portal/listing.py's."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from twostep.domain.errors import GatewayNotFound, InvalidInput, InvalidSetting, TwostepError
from twostep.domain.permissions import Permission
from twostep.domain.voice_prompts import PROMPTS
from twostep.interfaces.web import texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal import gateway_forms, words
from twostep.interfaces.web.portal.base import Portal, Seat
from twostep.interfaces.web.portal.listing import Listing
from twostep.services.gateways import GatewayView

HEALTH_HOURS = 24
LIST, EDIT = "admin/gateways.html", "admin/gateway.html"


class GatewayPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.listing = Listing(portal, Permission.GATEWAYS_WRITE, "gateways")

    def routes(self, router: APIRouter) -> None:
        base = "/admin/tenants/{tenant}/gateways"
        router.add_api_route(base, self.list, methods=["GET"])
        router.add_api_route(base, self.add, methods=["POST"])
        self.listing.on_name(router, "delete", self._delete, "gateway_deleted")
        router.add_api_route(base + "/{name}/edit", self.edit, methods=["GET"])
        router.add_api_route(base + "/{name}/edit", self.update, methods=["POST"])

    def list(self, request: Request, tenant: str) -> Response:
        return self.listing.show(request, tenant, LIST, lambda seat: self._listed(seat, tenant))

    def _listed(self, seat: Seat, tenant: str) -> dict[str, Any]:
        app = self.portal.app
        kinds = sorted(app.gateways.specs.kinds())
        prompts = (
            app.voice_prompts.list(seat.actor, tenant)
            if seat.can(Permission.SETTINGS_READ)
            else None
        )
        return {
            "title": texts.N_("Gateways"),
            "gateways": app.gateways.list(seat.actor, tenant),
            "health": app.gateways.health(seat.actor, tenant, HEALTH_HOURS),
            "hours": HEALTH_HOURS,
            "kinds": kinds,
            "forms": self._forms(kinds),
            "prompts": prompts,
            "prompt_names": PROMPTS,
        }

    async def add(self, request: Request, tenant: str) -> Response:
        form = await _form(request)
        return await run_in_threadpool(self._add, request, tenant, form)

    def _add(self, request: Request, tenant: str, form: dict[str, str]) -> Response:
        seat = self.listing.seat(request, form.get("csrf", ""))
        if isinstance(seat, Response):
            return seat
        name, kind = field(form.get("name")).strip(), field(form.get("kind"))
        given = _Given(kind, name)
        return self._save(
            seat,
            tenant,
            form,
            given,
            lambda settings: self.portal.app.gateways.add(seat.actor, tenant, name, kind, settings),
            lambda: self.listing.page(
                seat, tenant, LIST, lambda: self._listed(seat, tenant), 422, given=given
            ),
            "gateway_added",
        )

    def _save(
        self,
        seat: Seat,
        tenant: str,
        form: dict[str, str],
        given: _Given,
        save: Callable[[dict[str, Any]], object],
        again: Callable[[], Response],
        done: str,
    ) -> Response:
        """Read the form's settings and ``save`` them; a setting the form or the service
        refuses: the form ``again`` (422), the refusal beside its field."""
        settings = self._settings(given.kind, form, given)
        if settings is None:
            return again()
        try:
            save(settings)
        except (InvalidInput, InvalidSetting) as exc:
            if not given.refused(exc):
                return self.portal.failed(seat, exc)
            return again()
        except TwostepError as exc:
            return self.portal.failed(seat, exc)
        return self.listing.back(seat, tenant, done)

    def _settings(self, kind: str, form: dict[str, str], given: _Given) -> dict[str, Any] | None:
        """The settings the form gives for ``kind``, or None with ``given`` saying why."""
        specs = self.portal.app.gateways.specs
        fields = gateway_forms.fields_of(specs, kind) if kind in specs.kinds() else []
        if fields is None:  # a kind without a settings model: its JSON object
            try:
                parsed = json.loads(field(form.get("settings")) or "{}")
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                given.errors["settings"] = words.NOT_JSON
                return None
            return parsed
        values, errors = gateway_forms.read(fields, form)
        for f in fields:  # back in the form as typed (never a credential)
            typed = field(form.get(f.form_name)) if f.name in errors else None
            shown = f.shown(values.get(f.name))
            given.values[f.name] = shown if typed is None or f.secret else typed
        given.errors.update(errors)
        return None if errors else values

    # -- one gateway's settings, changed --------------------------------------------

    def edit(self, request: Request, tenant: str, name: str) -> Response:
        return self.listing.show(
            request, tenant, EDIT, lambda seat: self._editing(seat, tenant, name, None)
        )

    def _editing(self, seat: Seat, tenant: str, name: str, given: _Given | None) -> dict[str, Any]:
        gateway = self._find(seat, tenant, name)
        if given is None:
            given = _Given(gateway.kind, gateway.name)
            fields = gateway_forms.fields_of(self.portal.app.gateways.specs, gateway.kind) or []
            given.values.update({f.name: f.shown(gateway.settings.get(f.name)) for f in fields})
        return {
            "title": texts.N_("Change a gateway"),
            "gateway": gateway,
            "forms": self._forms([gateway.kind]),
            "given": given,
        }

    def _find(self, seat: Seat, tenant: str, name: str) -> GatewayView:
        found = self.portal.app.gateways.list(seat.actor, tenant)
        gateway = next((g for g in found if g.name == name), None)
        if gateway is None:
            raise GatewayNotFound(f"no gateway {name!r}")
        return gateway

    async def update(self, request: Request, tenant: str, name: str) -> Response:
        form = await _form(request)
        return await run_in_threadpool(self._update, request, tenant, name, form)

    def _update(self, request: Request, tenant: str, name: str, form: dict[str, str]) -> Response:
        seat = self.listing.seat(request, form.get("csrf", ""))
        if isinstance(seat, Response):
            return seat
        gateway = self.portal.call(seat, lambda: self._find(seat, tenant, name))
        if isinstance(gateway, Response):
            return gateway
        given = _Given(gateway.kind, gateway.name)
        return self._save(
            seat,
            tenant,
            form,
            given,
            lambda settings: self.portal.app.gateways.update(seat.actor, tenant, name, settings),
            lambda: self.listing.page(
                seat, tenant, EDIT, lambda: self._editing(seat, tenant, name, given), 422
            ),
            "gateway_changed",
        )

    def _delete(self, seat: Seat, tenant: str, name: str) -> None:
        self.portal.app.gateways.delete(seat.actor, tenant, name)

    def _forms(
        self, kinds: Sequence[str]
    ) -> Sequence[tuple[str, Sequence[gateway_forms.Field] | None]]:
        specs = self.portal.app.gateways.specs
        return [(kind, gateway_forms.fields_of(specs, kind)) for kind in kinds]


class _Given:
    """What a refused form showed, back in it (never a credential), and its errors: per
    setting, or for the name (``name``) or the whole form (``""``)."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}

    def refused(self, exc: TwostepError) -> bool:
        """Keep the service's refusal beside its field; False: it names no field here."""
        named = getattr(exc, "field", None)
        if not isinstance(named, str) or not named:
            return False
        self.errors[named if named in self.values or named == "name" else ""] = exc.message
        return True


async def _form(request: Request) -> dict[str, str]:
    """The posted form's text fields (a gateway kind's settings are not known in advance)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}
