"""A user's local primary password (for RADIUS clients in the password+code mode)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from twostep.interfaces.http.deps import AdminDep, AppDep

router = APIRouter(prefix="/v1/tenants/{tenant}/users/{user}/password", tags=["users"])


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    password: str = Field(min_length=1, max_length=256)


@router.put("", status_code=204)
def set_password(
    tenant: str, user: str, body: PasswordBody, app: AppDep, actor: AdminDep
) -> Response:
    app.passwords.set_password(actor, tenant, user, body.password)
    return Response(status_code=204)


@router.delete("", status_code=204)
def clear_password(tenant: str, user: str, app: AppDep, actor: AdminDep) -> Response:
    app.passwords.clear_password(actor, tenant, user)
    return Response(status_code=204)
