"""A user's remembered browsers (services/remembered_devices.py): listed and revoked by
admins; revoking them makes the pages ask for the second factor again."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from twostep.domain.remembered import RememberedDevice
from twostep.interfaces.http.deps import AdminDep, AppDep

router = APIRouter(prefix="/v1/tenants/{tenant}/users/{user}/remembered-devices", tags=["users"])


def _time(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class RememberedDeviceOut(BaseModel):
    id: str
    page: str = Field(description="signin (the hosted sign-in page) or my (self-service)")
    label: str | None = Field(description="the browser, as its User-Agent named it")
    created_at: str
    expires_at: str
    last_used_at: str | None

    @classmethod
    def of(cls, device: RememberedDevice) -> RememberedDeviceOut:
        return cls(
            id=device.id,
            page=device.page,
            label=device.label,
            created_at=_time(device.created_at) or "",
            expires_at=_time(device.expires_at) or "",
            last_used_at=_time(device.last_used_at),
        )


class ForgottenOut(BaseModel):
    revoked: int


@router.get("", response_model=list[RememberedDeviceOut], name="remembered_device.list")
def list_remembered_devices(
    tenant: str, user: str, app: AppDep, actor: AdminDep
) -> list[RememberedDeviceOut]:
    return [RememberedDeviceOut.of(d) for d in app.remembered.list_for(actor, tenant, user)]


@router.delete("", response_model=ForgottenOut, name="remembered_device.revoke")
def revoke_remembered_devices(tenant: str, user: str, app: AppDep, actor: AdminDep) -> ForgottenOut:
    return ForgottenOut(revoked=app.remembered.revoke(actor, tenant, user))


@router.delete("/{device_id}", response_model=ForgottenOut, name="remembered_device.revoke")
def revoke_remembered_device(
    tenant: str, user: str, device_id: str, app: AppDep, actor: AdminDep
) -> ForgottenOut:
    return ForgottenOut(revoked=app.remembered.revoke(actor, tenant, user, device_id[:64]))
