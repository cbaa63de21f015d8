from __future__ import annotations

from fastapi import APIRouter, Response

from twostep.domain.entities import MethodKind, OtpParams
from twostep.interfaces import qr
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.http.schemas import (
    AppCodeBody,
    CodeBody,
    EnrollmentOut,
    MethodBody,
    MethodOut,
    OathTokenBody,
    ResyncBody,
    VoiceBody,
)
from twostep.services.enroll import TokenSpec

router = APIRouter(prefix="/v1/tenants/{tenant}/users/{user}/methods", tags=["methods"])


@router.post("", response_model=EnrollmentOut, status_code=201, responses=errors(409))
def enroll(tenant: str, user: str, body: MethodBody, app: AppDep, actor: AdminDep) -> EnrollmentOut:
    if isinstance(body, AppCodeBody):
        enrollment = app.enroll.enroll_app_code(actor, tenant, user, body.label)
        out = MethodOut.of(enrollment.method).model_dump()
        uri = enrollment.otpauth_uri
        return EnrollmentOut(
            **out, otpauth_uri=uri, qr_png=qr.png_data_uri(uri), qr_svg=qr.svg(uri)
        )
    if isinstance(body, OathTokenBody):
        spec = TokenSpec(
            serial=body.serial,
            secret=body.secret,
            params=OtpParams(
                type=body.otp_type, algorithm=body.algorithm, digits=body.digits, period=body.period
            ),
            counter=body.counter,
            label=body.label,
        )
        method = app.enroll.enroll_oath_token(actor, tenant, user, spec)
    else:
        pin = body.pin if isinstance(body, VoiceBody) else None
        kind = MethodKind(body.kind)
        method = app.enroll.enroll_phone(actor, tenant, user, kind, body.phone, body.label, pin)
    default = app.admin.get_user(actor, tenant, user).default_method_id
    return EnrollmentOut(**MethodOut.of(method, default).model_dump())


@router.get("", response_model=list[MethodOut])
def list_methods(tenant: str, user: str, app: AppDep, actor: AdminDep) -> list[MethodOut]:
    default = app.admin.get_user(actor, tenant, user).default_method_id
    return [MethodOut.of(m, default) for m in app.enroll.list(actor, tenant, user)]


@router.get("/{method_id}", response_model=MethodOut)
def get_method(tenant: str, user: str, method_id: str, app: AppDep, actor: AdminDep) -> MethodOut:
    default = app.admin.get_user(actor, tenant, user).default_method_id
    return MethodOut.of(app.enroll.get(actor, tenant, user, method_id), default)


@router.post("/{method_id}/confirm", response_model=MethodOut)
def confirm(
    tenant: str, user: str, method_id: str, body: CodeBody, app: AppDep, actor: AdminDep
) -> MethodOut:
    method = app.enroll.confirm(actor, tenant, user, method_id, body.code)
    default = app.admin.get_user(actor, tenant, user).default_method_id
    return MethodOut.of(method, default)


@router.post("/{method_id}/default", status_code=204)
def set_default(tenant: str, user: str, method_id: str, app: AppDep, actor: AdminDep) -> Response:
    app.enroll.set_default(actor, tenant, user, method_id)
    return Response(status_code=204)


@router.post("/{method_id}/resync", response_model=MethodOut)
def resync(
    tenant: str, user: str, method_id: str, body: ResyncBody, app: AppDep, actor: AdminDep
) -> MethodOut:
    method = app.enroll.resync(actor, tenant, user, method_id, body.first_code, body.second_code)
    return MethodOut.of(method, app.admin.get_user(actor, tenant, user).default_method_id)


@router.delete("/{method_id}", status_code=204)
def delete_method(tenant: str, user: str, method_id: str, app: AppDep, actor: AdminDep) -> Response:
    app.enroll.delete(actor, tenant, user, method_id)
    return Response(status_code=204)
