from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.schemas import Settings, TenantBody, TenantOut

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])


@router.post("", response_model=TenantOut, status_code=201, name="tenant.create")
def create_tenant(body: TenantBody, app: AppDep, actor: AdminDep) -> TenantOut:
    return TenantOut.of(app.admin.create_tenant(actor, body.name, body.settings))


@router.get("", response_model=list[TenantOut])
def list_tenants(app: AppDep, actor: AdminDep) -> list[TenantOut]:
    return [TenantOut.of(t) for t in app.admin.list_tenants(actor)]


@router.get("/{tenant}", response_model=TenantOut)
def get_tenant(tenant: str, app: AppDep, actor: AdminDep) -> TenantOut:
    return TenantOut.of(app.admin.get_tenant(actor, tenant))


@router.get("/{tenant}/settings", response_model=dict[str, Any])
def get_settings(tenant: str, app: AppDep, actor: AdminDep) -> dict[str, Any]:
    return app.admin.get_tenant(actor, tenant).settings.to_dict()


@router.patch("/{tenant}/settings", response_model=dict[str, Any], name="settings.update")
def update_settings(
    tenant: str, app: AppDep, actor: AdminDep, changes: Annotated[Settings, Body()]
) -> dict[str, Any]:
    return app.admin.update_settings(actor, tenant, changes).settings.to_dict()
