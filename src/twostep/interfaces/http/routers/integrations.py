from __future__ import annotations

from fastapi import APIRouter, Response

from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.schemas import (
    IntegrationBody,
    IntegrationCreated,
    IntegrationOut,
    IntegrationPatch,
)

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
    return IntegrationOut.of(app.admin.set_legacy(actor, tenant, name, body.legacy))


@router.delete("/{name}", status_code=204, name="integration.revoke")
def revoke_integration(tenant: str, name: str, app: AppDep, actor: AdminDep) -> Response:
    app.admin.revoke_integration(actor, tenant, name)
    return Response(status_code=204)
