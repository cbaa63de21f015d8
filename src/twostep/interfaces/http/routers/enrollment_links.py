"""One-time enrollment links: an admin makes one for a user with no method yet, who opens
it at the self-service portal to register a first method (services/enrollment_links.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from twostep.domain.self_service import EnrollmentLink
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.openapi import errors

router = APIRouter(prefix="/v1/tenants/{tenant}/users/{user}/enrollment-links", tags=["users"])


def _time(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class EnrollmentLinkOut(BaseModel):
    id: str
    status: str = Field(description="open, used, revoked or expired")
    created_at: str
    expires_at: str
    used_at: str | None
    revoked_at: str | None
    created_by: str = Field(description="the admin key id that made it (operator: the CLI)")

    @classmethod
    def of(cls, link: EnrollmentLink, now: float) -> EnrollmentLinkOut:
        return cls(
            id=link.id,
            status=link.status(now),
            created_at=_time(link.created_at) or "",
            expires_at=_time(link.expires_at) or "",
            used_at=_time(link.used_at),
            revoked_at=_time(link.revoked_at),
            created_by=link.created_by,
        )


class NewEnrollmentLinkOut(EnrollmentLinkOut):
    url: str = Field(
        description="shown this once: send it to the user; whoever holds it registers a "
        "first method as this user (after the user's password, when they have one)"
    )


class RevokedOut(BaseModel):
    revoked: int


@router.post(
    "",
    response_model=NewEnrollmentLinkOut,
    status_code=201,
    name="enrollment_link.create",
    responses=errors(409),
)
def create_enrollment_link(
    tenant: str, user: str, app: AppDep, actor: AdminDep
) -> NewEnrollmentLinkOut:
    made = app.enrollment_links.create(actor, tenant, user)
    shown = EnrollmentLinkOut.of(made.link, app.deps.clock.now()).model_dump()
    return NewEnrollmentLinkOut(**shown, url=made.url)


@router.get("", response_model=list[EnrollmentLinkOut])
def list_enrollment_links(
    tenant: str, user: str, app: AppDep, actor: AdminDep
) -> list[EnrollmentLinkOut]:
    now = app.deps.clock.now()
    return [
        EnrollmentLinkOut.of(link, now) for link in app.enrollment_links.list(actor, tenant, user)
    ]


@router.delete("", response_model=RevokedOut, name="enrollment_link.revoke")
def revoke_enrollment_links(tenant: str, user: str, app: AppDep, actor: AdminDep) -> RevokedOut:
    return RevokedOut(revoked=app.enrollment_links.revoke(actor, tenant, user))
