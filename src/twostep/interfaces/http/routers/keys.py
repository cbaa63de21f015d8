from __future__ import annotations

from fastapi import APIRouter, Response

from twostep.domain.entities import Role
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.http.schemas import AdminKeyBody, AdminKeyCreated, AdminKeyOut

router = APIRouter(prefix="/v1/keys", tags=["admin keys"])


@router.post(
    "",
    response_model=AdminKeyCreated,
    status_code=201,
    responses=errors(404),
    name="admin_key.create",
)
def create_key(body: AdminKeyBody, app: AppDep, actor: AdminDep) -> AdminKeyCreated:
    admin_key, key = app.admin.create_admin_key(actor, body.name, Role(body.role), body.tenant)
    return AdminKeyCreated(**AdminKeyOut.of(admin_key).model_dump(), key=key)


@router.get("", response_model=list[AdminKeyOut])
def list_keys(app: AppDep, actor: AdminDep) -> list[AdminKeyOut]:
    return [AdminKeyOut.of(k) for k in app.admin.list_admin_keys(actor)]


@router.delete("/{key_id}", status_code=204, name="admin_key.revoke")
def revoke_key(key_id: str, app: AppDep, actor: AdminDep) -> Response:
    app.admin.revoke_admin_key(actor, key_id)
    return Response(status_code=204)
