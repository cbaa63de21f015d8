"""A user's local primary password (for RADIUS clients in the password+code mode)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import Field

from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.schemas import Strict
from twostep.services.passwords import MAX_LENGTH, MIN_LENGTH

router = APIRouter(prefix="/v1/tenants/{tenant}/users/{user}/password", tags=["users"])


class PasswordBody(Strict):
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)


@router.put("", status_code=204, name="password.set")
def set_password(
    tenant: str, user: str, body: PasswordBody, app: AppDep, actor: AdminDep
) -> Response:
    app.passwords.set_password(actor, tenant, user, body.password)
    return Response(status_code=204)


@router.delete("", status_code=204, name="password.clear")
def clear_password(tenant: str, user: str, app: AppDep, actor: AdminDep) -> Response:
    app.passwords.clear_password(actor, tenant, user)
    return Response(status_code=204)
