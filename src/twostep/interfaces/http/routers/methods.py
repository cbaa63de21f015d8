from __future__ import annotations

from fastapi import APIRouter, Response

from twostep.domain.entities import PHONE_KINDS, MethodKind, OtpParams
from twostep.domain.errors import InvalidInput
from twostep.interfaces import qr
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.schemas import (
    CodeBody,
    EnrollmentOut,
    MethodBody,
    MethodOut,
    ResyncBody,
)
from twostep.services.enroll import TokenSpec

router = APIRouter(prefix="/v1/tenants/{tenant}/users/{user}/methods", tags=["methods"])


@router.post("", response_model=EnrollmentOut, status_code=201)
def enroll(tenant: str, user: str, body: MethodBody, app: AppDep, actor: AdminDep) -> EnrollmentOut:
    if body.kind is MethodKind.APP_CODE:
        enrollment = app.enroll.enroll_app_code(actor, tenant, user, body.label)
        out = MethodOut.of(enrollment.method).model_dump()
        uri = enrollment.otpauth_uri
        return EnrollmentOut(
            **out, otpauth_uri=uri, qr_png=qr.png_data_uri(uri), qr_svg=qr.svg(uri)
        )
    if body.kind is MethodKind.OATH_TOKEN:
        if body.serial is None or body.secret is None:
            raise InvalidInput("an oath_token needs a serial and a secret", field="serial")
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
        default = app.admin.get_user(actor, tenant, user).default_method_id
        return EnrollmentOut(**MethodOut.of(method, default).model_dump())
    if body.kind in PHONE_KINDS:
        if body.phone is None:
            raise InvalidInput(f"a {body.kind.value} method needs a phone number", field="phone")
        method = app.enroll.enroll_phone(
            actor, tenant, user, body.kind, body.phone, body.label, body.pin
        )
        default = app.admin.get_user(actor, tenant, user).default_method_id
        return EnrollmentOut(**MethodOut.of(method, default).model_dump())
    if body.kind is MethodKind.APP_PUSH:
        raise InvalidInput(
            "app_push is registered by activating a device: POST "
            "/v1/tenants/{tenant}/users/{user}/devices/activations",
            field="kind",
        )
    raise InvalidInput(f"{body.kind.value} cannot be enrolled on this server yet", field="kind")


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
