"""Migrations in from another MFA server: Azure MFA Server's users, phones and tokens,
posted as the document ``contrib/mfa-server-export.ps1`` writes (JSON or CSV)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.mfa_server import migrate_document
from twostep.services.migration import MigrationReport

router = APIRouter(prefix="/v1/tenants/{tenant}/migrations", tags=["migrations"])

_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The MFA Server document: JSON (format mfa-server-users, version 1) "
        "or CSV with a header line (docs/migrating-from-mfa-server.md); at most 64 MiB",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


class MigrationEntryOut(BaseModel):
    place: str = Field(description="Where the document holds the user: record N or line N")
    user: str
    action: Literal["created", "merged", "unchanged", "skipped"]
    changes: dict[str, list[Any]] = Field(
        description="The user's fields set, [before, after] (a merge fills empty fields only)"
    )
    methods: list[str] = Field(description="Methods added, their numbers masked")
    default: str | None = Field(None, description="The method made the user's default")
    reregister: list[str] = Field(
        description="What could not move (pin, text_pin, mobile_app): the created user must "
        "register again"
    )
    notes: list[str]
    reason: str | None = Field(None, description="Why the user was skipped")


class MigrationOut(BaseModel):
    tenant: str
    dry_run: bool
    users: int
    created: int
    merged: int
    unchanged: int
    skipped: int
    methods_added: int
    reregister: int
    entries: list[MigrationEntryOut]

    @classmethod
    def of(cls, report: MigrationReport) -> MigrationOut:
        return cls(
            tenant=report.tenant,
            dry_run=report.dry_run,
            users=report.users,
            created=report.created,
            merged=report.merged,
            unchanged=report.unchanged,
            skipped=report.skipped,
            methods_added=report.methods_added,
            reregister=report.reregister,
            entries=[
                MigrationEntryOut(
                    place=e.place,
                    user=e.user,
                    action=e.action,  # type: ignore[arg-type]
                    changes=e.changes,
                    methods=list(e.methods),
                    default=e.default,
                    reregister=list(e.reregister),
                    notes=list(e.notes),
                    reason=e.reason,
                )
                for e in report.entries
            ],
        )


@router.post(
    "/mfa-server",
    response_model=MigrationOut,
    name="migration.mfa_server",
    openapi_extra=_BODY,
)
async def migrate_mfa_server(
    tenant: str,
    request: Request,
    app: AppDep,
    actor: AdminDep,
    dry_run: Annotated[bool, Query(description="Report what would be done; change nothing")] = (
        False
    ),
    format: Annotated[
        Literal["json", "csv"] | None,
        Query(description="The document's format, when its content should not decide"),
    ] = None,
    reregistration: Annotated[
        bool,
        Query(
            description="Mark created users who used PIN mode or the mobile app to register again"
        ),
    ] = True,
) -> MigrationOut:
    data = await request.body()
    report = await run_in_threadpool(
        lambda: migrate_document(
            app, actor, tenant, data, fmt=format, dry_run=dry_run, reregister=reregistration
        )
    )
    return MigrationOut.of(report)
