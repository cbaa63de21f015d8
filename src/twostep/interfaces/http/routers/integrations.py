from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from twostep.domain.return_urls import MAX_LENGTH, MAX_URLS
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.json_text import Body
from twostep.interfaces.http.schemas import (
    IntegrationBody,
    IntegrationCreated,
    IntegrationOut,
    IntegrationPatch,
)
from twostep.services.hosted_signin import SigninConfig

router = APIRouter(prefix="/v1/tenants/{tenant}/integrations", tags=["integrations"])


@router.post("", response_model=IntegrationCreated, status_code=201, name="integration.create")
def create_integration(
    tenant: str, body: IntegrationBody, app: AppDep, actor: AdminDep
) -> IntegrationCreated:
    integration, key = app.admin.create_integration(actor, tenant, body.name, legacy=body.legacy)
    return IntegrationCreated(**IntegrationOut.of(integration).model_dump(), key=key)


@router.get("", response_model=list[IntegrationOut])
def list_integrations(tenant: str, app: AppDep, actor: AdminDep) -> list[IntegrationOut]:
    return [IntegrationOut.of(i) for i in app.admin.list_integrations(actor, tenant)]


@router.patch("/{name}", response_model=IntegrationOut, name="integration.update")
def update_integration(
    tenant: str, name: str, body: IntegrationPatch, app: AppDep, actor: AdminDep
) -> IntegrationOut:
    """Either flag, or both (each change its own admin event)."""
    changed = None
    if body.legacy is not None:
        changed = app.admin.set_legacy(actor, tenant, name, body.legacy)
    if body.trusted_client_addresses is not None:
        trusted = body.trusted_client_addresses
        changed = app.admin.set_trusted_client_addresses(actor, tenant, name, trusted)
    assert changed is not None  # the body names at least one (IntegrationPatch)
    return IntegrationOut.of(changed)


@router.delete("/{name}", status_code=204, name="integration.revoke")
def revoke_integration(tenant: str, name: str, app: AppDep, actor: AdminDep) -> Response:
    app.admin.revoke_integration(actor, tenant, name)
    return Response(status_code=204)


# -- hosted sign-in (docs/hosted-signin.md) ---------------------------------------------


class SigninConfigOut(BaseModel):
    integration: str
    key_id: str = Field(description="the kid and iss of the integration's requests")
    return_urls: list[str]
    secret_issued_at: float | None = Field(
        description="when the signing secret was issued; null: none yet (requests are refused)"
    )

    @classmethod
    def of(cls, config: SigninConfig) -> SigninConfigOut:
        return cls(
            integration=config.integration,
            key_id=config.key_id,
            return_urls=list(config.return_urls),
            secret_issued_at=config.secret_issued_at,
        )


class SigninSecretOut(SigninConfigOut):
    secret: str = Field(description="the HS256 signing secret: shown only in this answer")


class ReturnUrlsBody(Body):
    model_config = ConfigDict(extra="forbid")

    return_urls: list[Annotated[str, Field(max_length=MAX_LENGTH)]] = Field(
        max_length=MAX_URLS,
        description="exact https URLs (http on a loopback host), without query or fragment",
    )


@router.get("/{name}/signin", response_model=SigninConfigOut)
def signin_config(tenant: str, name: str, app: AppDep, actor: AdminDep) -> SigninConfigOut:
    return SigninConfigOut.of(app.hosted_signin.config(actor, tenant, name))


@router.put(
    "/{name}/signin/return-urls", response_model=SigninConfigOut, name="integration.signin_urls"
)
def set_return_urls(
    tenant: str, name: str, body: ReturnUrlsBody, app: AppDep, actor: AdminDep
) -> SigninConfigOut:
    config = app.hosted_signin.set_return_urls(actor, tenant, name, body.return_urls)
    return SigninConfigOut.of(config)


@router.post(
    "/{name}/signin/secret",
    response_model=SigninSecretOut,
    status_code=201,
    name="integration.signin_secret",
)
def issue_signin_secret(tenant: str, name: str, app: AppDep, actor: AdminDep) -> SigninSecretOut:
    config, secret = app.hosted_signin.issue_secret(actor, tenant, name)
    return SigninSecretOut(**SigninConfigOut.of(config).model_dump(), secret=secret)
