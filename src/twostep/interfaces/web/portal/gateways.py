"""Gateways (text, call and email providers, in failover order): list with each one's
health over the last day, add and change (a form per kind, its labelled fields read from the
kind's settings model: portal/gateway_forms.py; credentials are sealed, never shown again,
and a blank one keeps the stored value; a refusal is shown beside its field), delete; and
the tenant's recorded voice prompts (portal/voice_prompts.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from twostep.domain.errors import GatewayNotFound, InvalidInput, InvalidSetting, TwostepError
from twostep.domain.permissions import Permission
from twostep.domain.voice_prompts import PROMPTS
from twostep.interfaces.web import texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal import gateway_forms, words
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
        router.add_api_route(base + "/{name}/edit", self.edit, methods=["GET"])
        router.add_api_route(base + "/{name}/edit", self.update, methods=["POST"])

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
            forms=self._forms(sorted(app.gateways.specs.kinds())),
            prompts=prompts,
            prompt_names=PROMPTS,
            path=lambda *parts: tenant_path(tenant, *parts),
            **values,
        )

    async def add(self, request: Request, tenant: str) -> Response:
        form = await _form(request)
        return await run_in_threadpool(self._add, request, tenant, form)

    def _add(self, request: Request, tenant: str, form: dict[str, str]) -> Response:
        seat = self.portal.seat(request, Permission.GATEWAYS_WRITE, form.get("csrf", ""))
        if isinstance(seat, Response):
            return seat
        name, kind = field(form.get("name")).strip(), field(form.get("kind"))
        given = _Given(kind, name)
        settings = self._settings(kind, form, given)
        if settings is None:
            return self._page(seat, tenant, status=422, given=given)
        gateways = self.portal.app.gateways
        try:
            gateways.add(seat.actor, tenant, name, kind, settings)
        except (InvalidInput, InvalidSetting) as exc:
            if not given.refused(exc):
                return self.portal.failed(seat, exc)
            return self._page(seat, tenant, status=422, given=given)
        except TwostepError as exc:
            return self.portal.failed(seat, exc)
        return self.portal.back(seat, tenant_path(tenant, "gateways"), "gateway_added")

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
        seat = self.portal.seat(request, Permission.GATEWAYS_WRITE)
        if isinstance(seat, Response):
            return seat
        return self._edit_page(seat, tenant, name, None)

    def _edit_page(
        self, seat: Seat, tenant: str, name: str, given: _Given | None, status: int = 200
    ) -> Response:
        app = self.portal.app
        found = self.portal.call(seat, lambda: app.gateways.list(seat.actor, tenant))
        if isinstance(found, Response):
            return found
        gateway = next((g for g in found if g.name == name), None)
        if gateway is None:
            return self.portal.failed(seat, GatewayNotFound(f"no gateway {name!r}"))
        if given is None:
            given = _Given(gateway.kind, gateway.name)
            fields = gateway_forms.fields_of(app.gateways.specs, gateway.kind) or []
            given.values.update({f.name: f.shown(gateway.settings.get(f.name)) for f in fields})
        return self.portal.render(
            seat,
            "admin/gateway.html",
            tenant,
            status=status,
            title=texts.N_("Change a gateway"),
            gateway=gateway,
            forms=self._forms([gateway.kind]),
            given=given,
            path=lambda *parts: tenant_path(tenant, *parts),
        )

    async def update(self, request: Request, tenant: str, name: str) -> Response:
        form = await _form(request)
        return await run_in_threadpool(self._update, request, tenant, name, form)

    def _update(self, request: Request, tenant: str, name: str, form: dict[str, str]) -> Response:
        seat = self.portal.seat(request, Permission.GATEWAYS_WRITE, form.get("csrf", ""))
        if isinstance(seat, Response):
            return seat
        gateways = self.portal.app.gateways
        views = self.portal.call(seat, lambda: gateways.list(seat.actor, tenant))
        if isinstance(views, Response):
            return views
        gateway = next((g for g in views if g.name == name), None)
        if gateway is None:
            return self.portal.failed(seat, GatewayNotFound(f"no gateway {name!r}"))
        given = _Given(gateway.kind, gateway.name)
        settings = self._settings(gateway.kind, form, given)
        if settings is None:
            return self._edit_page(seat, tenant, name, given, 422)
        try:
            gateways.update(seat.actor, tenant, name, settings)
        except (InvalidInput, InvalidSetting) as exc:
            if not given.refused(exc):
                return self.portal.failed(seat, exc)
            return self._edit_page(seat, tenant, name, given, 422)
        except TwostepError as exc:
            return self.portal.failed(seat, exc)
        return self.portal.back(seat, tenant_path(tenant, "gateways"), "gateway_changed")

    def _forms(
        self, kinds: Sequence[str]
    ) -> Sequence[tuple[str, Sequence[gateway_forms.Field] | None]]:
        specs = self.portal.app.gateways.specs
        return [(kind, gateway_forms.fields_of(specs, kind)) for kind in kinds]

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
