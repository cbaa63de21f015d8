"""Admin grants (who may sign in to the management portal, as which role, over which
tenant) and ending a user's page sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from twostep.domain.entities import Role
from twostep.domain.pages import AdminGrant
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.http.schemas import TENANT_NAME, Strict

router = APIRouter(tags=["admin grants"])


class AdminGrantBody(Strict):
    tenant: str = Field(pattern=TENANT_NAME, description="the user's tenant")
    user: str = Field(min_length=1, max_length=256)
    role: Literal["global_admin", "tenant_admin", "help_desk"]
    scope: str | None = Field(
        default=None,
        pattern=TENANT_NAME,
        description="the tenant the role covers (default: the user's); none for global_admin",
    )


class AdminGrantOut(BaseModel):
    id: str
    tenant: str
    user: str
    role: str
    scope: str | None
    created_at: str

    @classmethod
    def of(cls, grant: AdminGrant) -> AdminGrantOut:
        at = datetime.fromtimestamp(grant.created_at, UTC).isoformat(timespec="seconds")
        return cls(
            id=grant.id,
            tenant=grant.tenant,
            user=grant.user,
            role=grant.role.value,
            scope=grant.scope,
            created_at=at.replace("+00:00", "Z"),
        )


class SessionsEnded(BaseModel):
    ended: int


@router.post(
    "/v1/admins",
    response_model=AdminGrantOut,
    status_code=201,
    name="admin_grant.create",
    responses=errors(403, 404, 409),
)
def grant(body: AdminGrantBody, app: AppDep, actor: AdminDep) -> AdminGrantOut:
    made = app.admin_grants.grant(actor, body.tenant, body.user, Role(body.role), body.scope)
    return AdminGrantOut.of(made)


@router.get("/v1/admins", response_model=list[AdminGrantOut])
def list_grants(app: AppDep, actor: AdminDep) -> list[AdminGrantOut]:
    return [AdminGrantOut.of(g) for g in app.admin_grants.list(actor)]


@router.delete(
    "/v1/admins/{grant_id}", status_code=204, name="admin_grant.revoke", responses=errors(403)
)
def revoke(grant_id: str, app: AppDep, actor: AdminDep) -> Response:
    app.admin_grants.revoke(actor, grant_id)
    return Response(status_code=204)


@router.delete(
    "/v1/tenants/{tenant}/users/{user}/sessions",
    response_model=SessionsEnded,
    name="sessions.revoke",
    responses=errors(403),
)
def end_sessions(tenant: str, user: str, app: AppDep, actor: AdminDep) -> SessionsEnded:
    """Sign the user out of every page (management portal, self-service portal)."""
    return SessionsEnded(ended=app.page_sessions.revoke_user(actor, tenant, user))
