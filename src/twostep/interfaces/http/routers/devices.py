"""Mobile authenticators: activation and management (admin API), and the device API
(docs/device-api.md) the authenticator app speaks, authenticated by its own key."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from functools import reduce
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, GetJsonSchemaHandler, TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from starlette.concurrency import run_in_threadpool

from twostep.adapters.gateways.push_registry import CHANNELS
from twostep.adapters.gateways.push_webpush import vapid_public_key
from twostep.bootstrap import App
from twostep.domain.entities import Device
from twostep.domain.errors import Unauthenticated
from twostep.domain.ports.challenges import device_key
from twostep.factors import app_push
from twostep.interfaces import qr
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.http.schemas import Strict
from twostep.services.devices import DeviceKey

router = APIRouter(tags=["devices"])

_HEADER = re.compile(
    r"^TwostepDevice id=(?P<id>[A-Za-z0-9_]{1,32}), "
    r"ts=(?P<ts>\d{1,12}), sig=(?P<sig>[A-Za-z0-9_-]{1,200})$"
)


class ActivationBody(Strict):
    replaces: str | None = Field(default=None, max_length=32)


class ActivationOut(BaseModel):
    activation_url: str
    activation_code: str
    activation_uri: str
    expires_at: float
    qr_svg: str
    qr_png: str


class DeviceOut(BaseModel):
    id: str
    name: str
    platform: str | None
    key_type: str
    push: str
    state: str
    created_at: float
    last_seen_at: float | None
    revoked_reason: str | None

    @classmethod
    def of(cls, device: Device) -> DeviceOut:
        return cls(
            id=device.id,
            name=device.name,
            platform=device.platform,
            key_type=device.key_type,
            push=device.push_kind,
            state=device.state.value,
            created_at=device.created_at,
            last_seen_at=device.last_seen_at,
            revoked_reason=device.revoked_reason,
        )


class RenameBody(Strict):
    name: str = Field(min_length=1, max_length=64)


def _push_by_kind() -> Any:
    """The push channel as the OpenAPI document shows it: one object per push kind, told
    apart by ``kind``. Only described: the request reads it as text fields, which the
    server's push kinds check (422 invalid_request naming ``push.<field>``)."""
    return Annotated[reduce(operator.or_, CHANNELS), Field(discriminator="kind")]


class _DescribedAs:
    """Validate as the annotated type; describe as what ``described()`` returns."""

    def __init__(self, described: Callable[[], Any]) -> None:
        self.described = described

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(TypeAdapter(self.described()).core_schema)


PushChannelBody = Annotated[dict[str, str], _DescribedAs(_push_by_kind)]


class ActivateBody(Strict):
    code: str = Field(min_length=1, max_length=64)
    key_type: Literal["ed25519", "p256"] = "ed25519"
    public_key: str = Field(min_length=1, max_length=200)
    name: str = Field(default="authenticator", max_length=64)
    platform: str | None = Field(default=None, max_length=32)
    push: PushChannelBody = {"kind": "pull"}


class AnswerBody(Strict):
    decision: Literal["approve", "deny", "fraud"]
    number: int | None = Field(default=None, ge=0, le=999)
    nonce: str = Field(min_length=1, max_length=64)
    signature: str = Field(min_length=1, max_length=200)


# -- admin API ---------------------------------------------------------------------------

_USER_DEVICES = "/v1/tenants/{tenant}/users/{user}/devices"


@router.post(
    f"{_USER_DEVICES}/activations",
    response_model=ActivationOut,
    status_code=201,
    name="device.activation",
)
def start_activation(
    tenant: str, user: str, app: AppDep, actor: AdminDep, body: ActivationBody | None = None
) -> ActivationOut:
    started = app.devices.start_activation(actor, tenant, user, body.replaces if body else None)
    return ActivationOut(
        activation_url=started.url,
        activation_code=started.code,
        activation_uri=started.uri,
        expires_at=started.expires_at,
        qr_svg=qr.svg(started.uri),
        qr_png=qr.png_data_uri(started.uri),
    )


@router.get(_USER_DEVICES, response_model=list[DeviceOut])
def list_devices(tenant: str, user: str, app: AppDep, actor: AdminDep) -> list[DeviceOut]:
    return [DeviceOut.of(d) for d in app.devices.list(actor, tenant, user)]


@router.patch(f"{_USER_DEVICES}/{{device}}", response_model=DeviceOut, name="device.rename")
def rename_device(
    tenant: str, user: str, device: str, body: RenameBody, app: AppDep, actor: AdminDep
) -> DeviceOut:
    return DeviceOut.of(app.devices.rename(actor, tenant, user, device, body.name))


@router.delete(f"{_USER_DEVICES}/{{device}}", status_code=204, name="device.deactivate")
def deactivate_device(
    tenant: str, user: str, device: str, app: AppDep, actor: AdminDep
) -> Response:
    app.devices.deactivate(actor, tenant, user, device)
    return Response(status_code=204)


# -- the device API ------------------------------------------------------------------------


# The device API: each call is signed by the device (401, 403 account_not_activated).
_SIGNED = errors(401, 403, 404)


@router.post("/v1/devices/activate", status_code=201, responses=errors(404, 409))
def activate(body: ActivateBody, app: AppDep) -> dict[str, Any]:
    done = app.devices.activate(
        body.code, DeviceKey(body.key_type, body.public_key, body.name, body.platform, body.push)
    )
    return {
        "device_id": done.device.id,
        "tenant": done.tenant,
        "user": done.user,
        "issuer": done.issuer,
        "totp": {
            "secret": done.totp_secret,
            "algorithm": done.algorithm,
            "digits": done.digits,
            "period": done.period,
            "otpauth_uri": done.otpauth_uri,
        },
        "server_time": app.deps.clock.now(),
    }


@router.get("/v1/devices/push-config")
def push_config(app: AppDep) -> dict[str, Any]:
    """What an app needs to subscribe before activating: the push kinds this server
    sends, and its Web Push (VAPID) public key."""
    kinds = sorted(app.devices.channels.kinds())
    key_path = app.config.storage.home / "vapid.pem"
    vapid = vapid_public_key(key_path) if "webpush" in kinds else None
    return {"push_kinds": kinds, "vapid_public_key": vapid}


class PushBody(Strict):
    push: PushChannelBody


@router.put("/v1/devices/{device}/push", responses=_SIGNED)
async def update_push(device: str, body: PushBody, request: Request, app: AppDep) -> dict[str, Any]:
    """The device's new push channel: a rotated FCM token, a new Web Push subscription."""
    me = await run_in_threadpool(_device, app, request, device)
    updated = await run_in_threadpool(app.devices.update_push, me, body.push)
    return {"device_id": updated.id, "push": updated.push_kind}


@router.get("/v1/devices/{device}/requests", responses=_SIGNED)
async def device_requests(
    device: str,
    request: Request,
    app: AppDep,
    wait: Annotated[int, Query(ge=0, le=60)] = 0,
) -> dict[str, Any]:
    """Pending sign-in requests; with ``wait``, held open until one arrives."""
    me = await run_in_threadpool(_device, app, request, device)
    found = await run_in_threadpool(app.push.requests, me)
    if not found and wait > 0:
        await app.waits.wait_async(device_key(me.id), float(wait))
        found = await run_in_threadpool(app.push.requests, me)
    return {
        "requests": [
            {
                "transaction_id": r.transaction_id,
                "integration": r.integration,
                "client_ip": r.client_ip,
                "created_at": r.created_at,
                "expires_at": r.expires_at,
                "message": r.message,
                "nonce": r.nonce,
                "number_required": r.number_required,
            }
            for r in found
        ]
    }


@router.post("/v1/devices/{device}/requests/{transaction_id}", responses=_SIGNED)
async def answer_request(
    device: str, transaction_id: str, body: AnswerBody, request: Request, app: AppDep
) -> dict[str, Any]:
    me = await run_in_threadpool(_device, app, request, device)
    decision = await run_in_threadpool(
        app.push.answer, me, transaction_id, body.decision, body.number, body.nonce, body.signature
    )
    return {
        "result": decision.result.value,
        "reason": decision.reason.value if decision.reason else None,
    }


def _device(app: App, request: Request, device_id: str) -> Device:
    """The device that signed this request (docs/device-api.md §2)."""
    match = _HEADER.match(request.headers.get("authorization", ""))
    if match is None or match["id"] != device_id:
        raise Unauthenticated("a TwostepDevice signature for this device is required")
    # The path as sent on the request line (still percent-encoded), as the device signed it.
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    path = raw.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
    signature = app_push.b64decode(match["sig"], "signature")
    return app.devices.authenticate(device_id, int(match["ts"]), signature, request.method, path)
