from __future__ import annotations

from fastapi import APIRouter, Response

from twostep.domain.entities import MethodKind
from twostep.interfaces import qr
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.http.schemas import (
    CodeBody,
    EnrollmentOut,
    MethodBody,
    MethodOut,
    ResyncBody,
)

router = APIRouter(prefix="/v1/tenants/{tenant}/users/{user}/methods", tags=["methods"])


@router.post(
    "", response_model=EnrollmentOut, status_code=201, responses=errors(409), name="method.enroll"
)
def enroll(tenant: str, user: str, body: MethodBody, app: AppDep, actor: AdminDep) -> EnrollmentOut:
    """Register a method of any kind an admin enrolls (its fields: factors/)."""
    values = body.model_dump(exclude={"kind"})
    kind = MethodKind(getattr(body, "kind"))  # noqa: B009 - the body's tag, per kind
    done = app.enroll.enroll(actor, tenant, user, kind, values)
    default = app.admin.get_user(actor, tenant, user).default_method_id
    out = EnrollmentOut(**MethodOut.of(done.method, default).model_dump())
    uri = done.shown.get("otpauth_uri")
    if uri is not None:  # shown once: the app scans it
        out.otpauth_uri, out.qr_png, out.qr_svg = uri, qr.png_data_uri(uri), qr.svg(uri)
    return out


@router.get("", response_model=list[MethodOut])
def list_methods(tenant: str, user: str, app: AppDep, actor: AdminDep) -> list[MethodOut]:
    default = app.admin.get_user(actor, tenant, user).default_method_id
    return [MethodOut.of(m, default) for m in app.enroll.list(actor, tenant, user)]


@router.get("/{method_id}", response_model=MethodOut)
def get_method(tenant: str, user: str, method_id: str, app: AppDep, actor: AdminDep) -> MethodOut:
    default = app.admin.get_user(actor, tenant, user).default_method_id
    return MethodOut.of(app.enroll.get(actor, tenant, user, method_id), default)


@router.post("/{method_id}/confirm", response_model=MethodOut, name="method.confirm")
def confirm(
    tenant: str, user: str, method_id: str, body: CodeBody, app: AppDep, actor: AdminDep
) -> MethodOut:
    method = app.enroll.confirm(actor, tenant, user, method_id, body.code)
    default = app.admin.get_user(actor, tenant, user).default_method_id
    return MethodOut.of(method, default)


@router.post("/{method_id}/default", status_code=204, name="method.default")
def set_default(tenant: str, user: str, method_id: str, app: AppDep, actor: AdminDep) -> Response:
    app.enroll.set_default(actor, tenant, user, method_id)
    return Response(status_code=204)


@router.post("/{method_id}/resync", response_model=MethodOut, name="method.resync")
def resync(
    tenant: str, user: str, method_id: str, body: ResyncBody, app: AppDep, actor: AdminDep
) -> MethodOut:
    method = app.enroll.resync(actor, tenant, user, method_id, body.first_code, body.second_code)
    return MethodOut.of(method, app.admin.get_user(actor, tenant, user).default_method_id)


@router.delete("/{method_id}", status_code=204, name="method.delete")
def delete_method(tenant: str, user: str, method_id: str, app: AppDep, actor: AdminDep) -> Response:
    app.enroll.delete(actor, tenant, user, method_id)
    return Response(status_code=204)
