"""A user's account events: disable, enable, require re-registration."""

from __future__ import annotations

from fastapi import APIRouter

from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.schemas import UserOut

router = APIRouter(prefix="/v1/tenants/{tenant}/users/{user}", tags=["users"])


@router.post("/disable", response_model=UserOut, name="user.disable")
def disable_user(tenant: str, user: str, app: AppDep, actor: AdminDep) -> UserOut:
    """Every sign-in of the user answers ``reject`` / ``user_disabled``; methods stay."""
    return UserOut.of(app.accounts.disable(actor, tenant, user), app.deps.clock.now())


@router.post("/enable", response_model=UserOut, name="user.enable")
def enable_user(tenant: str, user: str, app: AppDep, actor: AdminDep) -> UserOut:
    return UserOut.of(app.accounts.enable(actor, tenant, user), app.deps.clock.now())


@router.post("/require-registration", response_model=UserOut, name="user.require_registration")
def require_registration(tenant: str, user: str, app: AppDep, actor: AdminDep) -> UserOut:
    """Remove the user's methods (hardware tokens back to the pool) and devices; their
    next sign-in answers ``reject`` / ``registration_required`` until they register."""
    return UserOut.of(app.accounts.require_registration(actor, tenant, user), app.deps.clock.now())
