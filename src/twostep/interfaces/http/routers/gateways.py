"""Gateways: the admin API for a tenant's providers, and the providers' webhooks."""

from __future__ import annotations

import operator
from dataclasses import asdict
from functools import cache, reduce
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, TypeAdapter, create_model
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from starlette.concurrency import run_in_threadpool

from twostep.adapters.gateways.registry import GatewayRegistry
from twostep.domain.delivery import WebhookRequest
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.json_text import JsonObject
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.http.schemas import Strict
from twostep.services.gateway_health import MAX_HOURS
from twostep.services.gateways import GatewayView

router = APIRouter(tags=["gateways"])


_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_POSITION = Field(default=None, ge=0, le=1000, description="failover order, lowest first")


class GatewayBody(Strict):
    """A new gateway. Its settings are checked by its kind (422 ``invalid_setting`` naming
    the setting), and described per kind in the OpenAPI document."""

    name: str = Field(pattern=_NAME)
    kind: str = Field(min_length=1, max_length=16, description="outbox, http, smtp or twilio")
    settings: JsonObject = Field(default={}, description="the kind's settings")
    position: int | None = _POSITION

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(TypeAdapter(_body_by_kind()).core_schema)


class _DescribedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    position: int | None = _POSITION


@cache
def _body_by_kind() -> Any:
    """GatewayBody as the OpenAPI document shows it: one body per kind, told apart by
    ``kind``, each with its settings model (credentials ``writeOnly``, ``format:
    password``). Only described: the request is read as GatewayBody, so a refusal keeps
    its ``invalid_setting`` answer."""
    registry = GatewayRegistry()
    one_of: Any = Literal  # a kind known only here, at run time
    bodies: list[type[BaseModel]] = []
    for kind in sorted(registry.kinds()):
        can = ", ".join(sorted(c.value for c in registry.capabilities(kind)))
        bodies.append(
            create_model(
                f"{kind.capitalize()}GatewayBody",
                __base__=_DescribedBody,
                __doc__=f"A gateway of kind {kind}; it can do: {can}",
                kind=(one_of[kind], ...),
                settings=(registry.settings_model(kind), ...),
            )
        )
    return Annotated[reduce(operator.or_, bodies), Field(discriminator="kind")]


class GatewayOut(BaseModel):
    id: str
    name: str
    kind: str
    position: int
    settings: dict[str, Any]
    credentials: list[str]  # which credentials are set; never their values
    inbound_url: str
    calls_url: str

    @classmethod
    def of(cls, view: GatewayView) -> GatewayOut:
        return cls(
            id=view.id,
            name=view.name,
            kind=view.kind,
            position=view.position,
            settings=dict(view.settings),
            credentials=list(view.credentials),
            inbound_url=view.inbound_url,
            calls_url=view.calls_url,
        )


@router.post(
    "/v1/tenants/{tenant}/gateways", response_model=GatewayOut, status_code=201, name="gateway.add"
)
def add_gateway(tenant: str, body: GatewayBody, app: AppDep, actor: AdminDep) -> GatewayOut:
    view = app.gateways.add(actor, tenant, body.name, body.kind, body.settings, body.position)
    return GatewayOut.of(view)


@router.get("/v1/tenants/{tenant}/gateways", response_model=list[GatewayOut])
def list_gateways(tenant: str, app: AppDep, actor: AdminDep) -> list[GatewayOut]:
    return [GatewayOut.of(v) for v in app.gateways.list(actor, tenant)]


class GatewayHealthOut(BaseModel):
    name: str
    kind: str
    position: int | None = Field(description="failover order; null for the built-in outbox")
    deliveries: int = Field(description="sign-ins whose text, call or email it took")
    failures: int = Field(description="deliveries it failed when no gateway could deliver")
    last_delivery_at: float | None
    last_failure_at: float | None
    last_error: str | None = Field(description="its error then, as audited")


class GatewaysHealthOut(BaseModel):
    since: float = Field(description="the window's start (Unix time)")
    undelivered: int = Field(description="sign-ins no gateway could deliver in the window")
    gateways: list[GatewayHealthOut]


@router.get(
    "/v1/tenants/{tenant}/gateways/health",
    response_model=GatewaysHealthOut,
    responses=errors(404, 422),
)
def gateways_health(
    tenant: str,
    app: AppDep,
    actor: AdminDep,
    hours: Annotated[int, Query(ge=1, le=MAX_HOURS, description="the window, in hours")] = 24,
) -> GatewaysHealthOut:
    """Each gateway's deliveries and failures in the last ``hours``, from the audit log
    (every node's): to see a provider failing before users call."""
    report = app.gateways.health(actor, tenant, hours)
    return GatewaysHealthOut(
        since=report.since,
        undelivered=report.undelivered,
        gateways=[GatewayHealthOut(**asdict(line)) for line in report.gateways],
    )


@router.delete("/v1/tenants/{tenant}/gateways/{name}", status_code=204, name="gateway.delete")
def delete_gateway(tenant: str, name: str, app: AppDep, actor: AdminDep) -> Response:
    app.gateways.delete(actor, tenant, name)
    return Response(status_code=204)


# -- webhooks: authenticated by the gateway's own signature, not by an API key -----------


# Webhooks: authenticated by the provider's signature (403 webhook_refused).
@router.post("/v1/gateways/{gateway}/inbound", status_code=204, responses=errors(403, 404, 422))
async def inbound_text(gateway: str, request: Request, app: AppDep) -> Response:
    """A text message a user sent back (two-way SMS)."""
    hook = await _webhook(request, app.gateways.public_url)
    await run_in_threadpool(app.delivered.inbound_text, gateway, hook)
    return Response(status_code=204)


@router.post("/v1/gateways/{gateway}/calls", responses=errors(403, 404, 422))
async def call_event(gateway: str, request: Request, app: AppDep) -> Response:
    """Keys pressed in a call, or the call's status."""
    hook = await _webhook(request, app.gateways.public_url)
    answer = await run_in_threadpool(app.delivered.call_event, gateway, hook)
    if answer is None:
        return Response(status_code=204)
    return Response(answer.body, media_type=answer.content_type)


async def _webhook(request: Request, public_url: str) -> WebhookRequest:
    body = await request.body()
    url = public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    form: dict[str, str] = {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return WebhookRequest(
        url=url,
        method=request.method,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        form=form,
    )
