"""RADIUS clients: the NASes (VPNs, gateways) that may send Access-Requests."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from twostep.domain.entities import RadiusClient, RadiusMode, RadiusPrimary
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.json_text import Body
from twostep.interfaces.http.schemas import NAME
from twostep.services.radius_clients import (
    MAX_PUSH_WAIT,
    MAX_SECRET_OCTETS,
    NewRadiusClient,
    RadiusClientChange,
)
from twostep.services.radius_options import (
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    MAX_UPSTREAMS,
    MIN_TIMEOUT,
    NewUpstream,
)

router = APIRouter(prefix="/v1/tenants/{tenant}/radius-clients", tags=["radius"])


# An IPv4 address (dotted quad) or an IPv6 one (with a colon), optionally with a prefix
# length: what ``ip_network`` may accept (it alone decides); "0" or a name never is.
_NETWORK = r"^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)(/[0-9]{1,3})?$"


_PRINTABLE = r"^[!-~]([ -~]*[!-~])?$"  # printable ASCII, no space at either end


class UpstreamBody(Body):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(max_length=64, description="the server's IP address")
    port: int = Field(default=1812, ge=1, le=65535)
    timeout: float = Field(default=DEFAULT_TIMEOUT, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)
    secret: str = Field(
        max_length=MAX_SECRET_OCTETS,
        pattern=_PRINTABLE,
        description="the shared secret with that server: write-only, sealed, never shown",
    )

    def new(self) -> NewUpstream:
        return NewUpstream(self.address, self.secret, self.port, self.timeout)


class UpstreamOut(BaseModel):
    address: str
    port: int
    timeout: float


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
    require_user_match: bool = Field(
        default=True,
        description="off: a user unknown or without a method is accepted after the client's "
        "own primary (ldap or radius) alone",
    )
    oath_fallback: bool = Field(
        default=False, description="a failed push, call or delivery asks for an OATH code"
    )
    primary: RadiusPrimary = RadiusPrimary.NONE
    upstreams: list[UpstreamBody] = Field(default=[], max_length=MAX_UPSTREAMS)


class RadiusClientPatch(Body):
    """The options to change; those left out are kept. ``upstreams`` replaces them all
    (each with its secret); left out, the servers and their secrets are kept."""

    model_config = ConfigDict(extra="forbid")

    mode: RadiusMode | None = None
    require_message_authenticator: bool | None = None
    limit_proxy_state: bool | None = None
    push_wait_seconds: int | None = Field(default=None, ge=0, le=MAX_PUSH_WAIT)
    require_user_match: bool | None = None
    oath_fallback: bool | None = None
    primary: RadiusPrimary | None = None
    upstreams: list[UpstreamBody] | None = Field(default=None, max_length=MAX_UPSTREAMS)


class RadiusClientOut(BaseModel):
    name: str
    network: str
    mode: RadiusMode
    require_message_authenticator: bool
    limit_proxy_state: bool
    push_wait_seconds: int
    created_at: float
    require_user_match: bool
    oath_fallback: bool
    primary: RadiusPrimary
    upstreams: list[UpstreamOut]

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
            require_user_match=client.require_user_match,
            oath_fallback=client.oath_fallback,
            primary=client.primary,
            upstreams=[
                UpstreamOut(address=u.address, port=u.port, timeout=u.timeout)
                for u in client.upstreams
            ],
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
            require_user_match=body.require_user_match,
            oath_fallback=body.oath_fallback,
            primary=body.primary,
            upstreams=tuple(u.new() for u in body.upstreams),
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


@router.patch("/{name}", response_model=RadiusClientOut, name="radius_client.update")
def update_radius_client(
    tenant: str, name: str, body: RadiusClientPatch, app: AppDep, actor: AdminDep
) -> RadiusClientOut:
    upstreams = None if body.upstreams is None else tuple(u.new() for u in body.upstreams)
    change = RadiusClientChange(
        mode=body.mode,
        require_message_authenticator=body.require_message_authenticator,
        limit_proxy_state=body.limit_proxy_state,
        push_wait_seconds=body.push_wait_seconds,
        require_user_match=body.require_user_match,
        oath_fallback=body.oath_fallback,
        primary=body.primary,
        upstreams=upstreams,
    )
    return RadiusClientOut.of(app.radius_clients.update(actor, tenant, name, change))


@router.delete("/{name}", status_code=204, name="radius_client.delete")
def delete_radius_client(tenant: str, name: str, app: AppDep, actor: AdminDep) -> Response:
    app.radius_clients.delete(actor, tenant, name)
    return Response(status_code=204)
