from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from twostep.domain.ports.users import NewUser
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.schemas import BypassBody, UserBody, UserOut, UserPatch
from twostep.services.admin import UserChanges

router = APIRouter(prefix="/v1/tenants/{tenant}/users", tags=["users"])


@router.post("", response_model=UserOut, status_code=201, name="user.create")
def create_user(tenant: str, body: UserBody, app: AppDep, actor: AdminDep) -> UserOut:
    user = app.admin.create_user(
        actor,
        tenant,
        NewUser(
            name=body.user,
            first_name=body.first_name,
            last_name=body.last_name,
            email=body.email,
            phone=body.phone,
            mfa=body.mfa,
            language=body.language,
        ),
    )
    return UserOut.of(user, app.deps.clock.now())


@router.get("", response_model=list[UserOut])
def list_users(
    tenant: str,
    app: AppDep,
    actor: AdminDep,
    after: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[UserOut]:
    now = app.deps.clock.now()
    return [UserOut.of(u, now) for u in app.admin.list_users(actor, tenant, after, limit)]


@router.get("/{user}", response_model=UserOut)
def get_user(tenant: str, user: str, app: AppDep, actor: AdminDep) -> UserOut:
    return UserOut.of(app.admin.get_user(actor, tenant, user), app.deps.clock.now())


@router.patch("/{user}", response_model=UserOut, name="user.update")
def update_user(tenant: str, user: str, body: UserPatch, app: AppDep, actor: AdminDep) -> UserOut:
    sent = body.model_fields_set
    changes = UserChanges(
        first_name=body.first_name,
        last_name=body.last_name,
        email=body.email,
        phone=body.phone,
        mfa=body.mfa,
        language=body.language,
        clear=frozenset(f for f in sent if getattr(body, f) is None),
    )
    return UserOut.of(app.admin.update_user(actor, tenant, user, changes), app.deps.clock.now())


@router.delete("/{user}", status_code=204, name="user.delete")
def delete_user(tenant: str, user: str, app: AppDep, actor: AdminDep) -> Response:
    app.admin.delete_user(actor, tenant, user)
    return Response(status_code=204)


@router.post("/{user}/unlock", response_model=UserOut, name="user.unlock")
def unlock_user(tenant: str, user: str, app: AppDep, actor: AdminDep) -> UserOut:
    return UserOut.of(app.admin.unlock_user(actor, tenant, user), app.deps.clock.now())


@router.post("/{user}/bypass", response_model=UserOut, name="user.bypass")
def grant_bypass(
    tenant: str, user: str, app: AppDep, actor: AdminDep, body: BypassBody | None = None
) -> UserOut:
    """A one-time bypass: the user's next sign-in within ``seconds`` (on any interface,
    any node) is accepted without a second factor, once (audited ``accept`` / ``bypass``).
    A new grant replaces an open one."""
    seconds = body.seconds if body is not None else BypassBody().seconds
    return UserOut.of(app.bypasses.grant(actor, tenant, user, seconds), app.deps.clock.now())


@router.delete("/{user}/bypass", status_code=204, name="user.bypass_cancel")
def cancel_bypass(tenant: str, user: str, app: AppDep, actor: AdminDep) -> Response:
    """Close the user's open bypass (204 also when none was open: nothing is recorded)."""
    app.bypasses.cancel(actor, tenant, user)
    return Response(status_code=204)
