"""A user's app passwords: for legacy clients that cannot ask for a second factor."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from twostep.domain.entities import AppPassword
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.http.schemas import Strict
from twostep.services.app_passwords import MAX_NAME

router = APIRouter(prefix="/v1/tenants/{tenant}/users/{user}/app-passwords", tags=["users"])


class AppPasswordBody(Strict):
    name: str = Field(
        min_length=1, max_length=MAX_NAME, description='what it is for: "Outlook on laptop"'
    )


class AppPasswordOut(BaseModel):
    id: str
    name: str
    created_at: str
    last_used_at: str | None

    @classmethod
    def of(cls, found: AppPassword) -> AppPasswordOut:
        return cls(
            id=found.id,
            name=found.name,
            created_at=_time(found.created_at),
            last_used_at=_time(found.last_used_at) if found.last_used_at else None,
        )


class NewAppPasswordOut(AppPasswordOut):
    password: str = Field(description="shown this once: the user types it in the legacy client")


class DeletedOut(BaseModel):
    deleted: int


def _time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@router.post(
    "",
    response_model=NewAppPasswordOut,
    status_code=201,
    name="app_password.create",
    responses=errors(403),
)
def create_app_password(
    tenant: str, user: str, body: AppPasswordBody, app: AppDep, actor: AdminDep
) -> NewAppPasswordOut:
    made = app.app_passwords.create(actor, tenant, user, body.name)
    shown = AppPasswordOut.of(made.app_password).model_dump()
    return NewAppPasswordOut(**shown, password=made.password)


@router.get("", response_model=list[AppPasswordOut])
def list_app_passwords(
    tenant: str, user: str, app: AppDep, actor: AdminDep
) -> list[AppPasswordOut]:
    return [AppPasswordOut.of(found) for found in app.app_passwords.list(actor, tenant, user)]


@router.delete("/{app_password_id}", status_code=204, name="app_password.delete")
def delete_app_password(
    tenant: str, user: str, app_password_id: str, app: AppDep, actor: AdminDep
) -> Response:
    app.app_passwords.delete(actor, tenant, user, app_password_id)
    return Response(status_code=204)


@router.delete("", response_model=DeletedOut, name="app_password.delete_all")
def delete_all_app_passwords(tenant: str, user: str, app: AppDep, actor: AdminDep) -> DeletedOut:
    """Every app password of the user (a lost laptop or phone)."""
    return DeletedOut(deleted=app.app_passwords.delete_all(actor, tenant, user))
