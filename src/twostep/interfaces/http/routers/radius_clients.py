"""RADIUS clients: the NASes (VPNs, gateways) that may send Access-Requests."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from twostep.domain.entities import RadiusClient, RadiusMode
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.json_text import Body
from twostep.interfaces.http.schemas import NAME
from twostep.services.radius_clients import MAX_PUSH_WAIT, MAX_SECRET_OCTETS, NewRadiusClient

router = APIRouter(prefix="/v1/tenants/{tenant}/radius-clients", tags=["radius"])


# An IPv4 address (dotted quad) or an IPv6 one (with a colon), optionally with a prefix
# length: what ``ip_network`` may accept (it alone decides); "0" or a name never is.
_NETWORK = r"^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)(/[0-9]{1,3})?$"


class RadiusClientBody(Body):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=128, pattern=NAME)
    network: str = Field(
        max_length=64, pattern=_NETWORK, description="an address or CIDR, IPv4 or IPv6"
    )
    mode: RadiusMode = RadiusMode.SECOND_FACTOR
    secret: str | None = Field(
        default=None,
        max_length=MAX_SECRET_OCTETS,
        pattern=r"^[!-~]([ -~]*[!-~])?$",
        description="printable ASCII, no leading or trailing space; omit to have one generated",
    )
    require_message_authenticator: bool = True
    limit_proxy_state: bool = False
    push_wait_seconds: int = Field(default=25, ge=0, le=MAX_PUSH_WAIT)


class RadiusClientOut(BaseModel):
    name: str
    network: str
    mode: RadiusMode
    require_message_authenticator: bool
    limit_proxy_state: bool
    push_wait_seconds: int
    created_at: float

    @classmethod
    def of(cls, client: RadiusClient) -> RadiusClientOut:
        return cls(
            name=client.name,
            network=client.network,
            mode=client.mode,
            require_message_authenticator=client.require_message_authenticator,
            limit_proxy_state=client.limit_proxy_state,
            push_wait_seconds=client.push_wait_seconds,
            created_at=client.created_at,
        )


class RadiusClientCreated(RadiusClientOut):
    secret: str | None = Field(
        default=None, description="the generated shared secret: shown only in this answer"
    )
    warnings: list[str] = []


@router.post("", response_model=RadiusClientCreated, status_code=201, name="radius_client.create")
def create_radius_client(
    tenant: str, body: RadiusClientBody, app: AppDep, actor: AdminDep
) -> RadiusClientCreated:
    created = app.radius_clients.create(
        actor,
        tenant,
        NewRadiusClient(
            name=body.name,
            network=body.network,
            mode=body.mode,
            secret=body.secret,
            require_message_authenticator=body.require_message_authenticator,
            limit_proxy_state=body.limit_proxy_state,
            push_wait_seconds=body.push_wait_seconds,
        ),
    )
    return RadiusClientCreated(
        **RadiusClientOut.of(created.client).model_dump(),
        secret=created.secret,
        warnings=list(created.warnings),
    )


@router.get("", response_model=list[RadiusClientOut])
def list_radius_clients(tenant: str, app: AppDep, actor: AdminDep) -> list[RadiusClientOut]:
    return [RadiusClientOut.of(c) for c in app.radius_clients.list(actor, tenant)]


@router.delete("/{name}", status_code=204, name="radius_client.delete")
def delete_radius_client(tenant: str, name: str, app: AppDep, actor: AdminDep) -> Response:
    app.radius_clients.delete(actor, tenant, name)
    return Response(status_code=204)
