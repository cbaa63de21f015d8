"""Directories: a tenant's LDAP / Active Directory servers its users are taken from, their
connection test, and their sync (with its progress, on any node)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr, create_model
from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema

from twostep.domain.directory import DirectorySettings
from twostep.interfaces.http.deps import AdminDep, AppDep
from twostep.interfaces.http.json_text import Body
from twostep.interfaces.http.openapi import Error
from twostep.services.directories import DirectoryView
from twostep.services.directory_progress import LIST_LIMIT, Change, Problem, SyncCounts
from twostep.services.directory_sync import SyncReport

router = APIRouter(prefix="/v1/tenants/{tenant}/directories", tags=["directories"])

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_POSITION = Field(
    default=None, ge=0, le=1000, description="which directory a user is looked up in first"
)
_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    502: {
        "model": Error,
        "description": "No server of the directory answered, TLS failed, or it refused the "
        "reading account (`directory_unavailable`); nothing was changed",
    },
}


def _optional(info: FieldInfo) -> tuple[Any, FieldInfo]:
    """A setting as a change may give it: absent, or a value (null where it may be null),
    with the setting's constraints; the service checks the whole result again."""
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]
    return annotation | None, FieldInfo(default=None, description=info.description)


class NewDirectoryBody(DirectorySettings, Body):
    """A new directory: its name, and its settings (``bind_password`` is write-only)."""

    name: str = Field(pattern=_NAME)
    position: int | None = _POSITION


if TYPE_CHECKING:

    class DirectoryChangesBody(Body):
        position: int | None

else:
    # Generated from the one settings model (domain/directory.py), every field optional:
    # what a change leaves out stays as it is.
    DirectoryChangesBody = create_model(
        "DirectoryChangesBody",
        __base__=Body,
        __doc__="Any settings to change (``attributes`` are merged key by key); a null "
        "``bind_password`` removes the password.",
        __config__=None,
        position=(int | None, _POSITION),
        **{name: _optional(info) for name, info in DirectorySettings.model_fields.items()},
    )
    DirectoryChangesBody.model_config["extra"] = "forbid"
    DirectoryChangesBody.model_rebuild(force=True)


class DirectorySettingsOut(DirectorySettings):
    """A directory's settings as answered: never its password."""

    bind_password: SkipJsonSchema[SecretStr | None] = Field(default=None, exclude=True)


class SyncBody(Body):
    model_config = ConfigDict(extra="forbid", strict=True)

    full: bool = Field(default=False, description="read every entry, not only those changed")
    dry_run: bool = Field(default=False, description="write nothing; list what would change")


class CountsOut(BaseModel):
    seen: int
    created: int
    changed: int
    disabled: int
    enabled: int
    skipped: int
    conflicts: int
    errors: int
    bad_phones: int
    methods_added: int
    methods_refused: int

    @classmethod
    def of(cls, counts: SyncCounts) -> CountsOut:
        return cls(**counts.as_dict())


class ProblemOut(BaseModel):
    dn: str
    reason: str
    detail: str
    user: str | None

    @classmethod
    def of(cls, problem: Problem) -> ProblemOut:
        return cls(dn=problem.dn, reason=problem.reason, detail=problem.detail, user=problem.user)


class ChangeOut(BaseModel):
    user: str
    dn: str | None
    fields: list[str]

    @classmethod
    def of(cls, change: Change) -> ChangeOut:
        return cls(user=change.user, dn=change.dn, fields=list(change.fields))


class ProgressOut(BaseModel):
    state: str = Field(description="running, done, failed or interrupted")
    full: bool
    started_at: float
    finished_at: float | None
    counts: CountsOut
    error: str | None = Field(description="the error code that stopped it")
    message: str | None
    problems: list[ProblemOut] = Field(description="the first 100 entries passed over")


class DirectoryOut(BaseModel):
    id: str
    name: str
    position: int
    created_at: float
    settings: DirectorySettingsOut
    bind_password_set: bool
    synced_at: float | None = Field(description="when the last sync finished")
    sync_progress: ProgressOut | None = Field(description="the running or last sync")

    @classmethod
    def of(cls, view: DirectoryView) -> DirectoryOut:
        directory, record = view.directory, view.sync
        progress = None
        if record is not None:
            progress = ProgressOut(
                state=view.sync_state or record.state,
                full=record.full,
                started_at=record.started_at,
                finished_at=record.finished_at,
                counts=CountsOut.of(record.counts),
                error=record.error,
                message=record.message,
                problems=[ProblemOut.of(p) for p in record.problems],
            )
        return cls(
            id=directory.id,
            name=directory.name,
            position=directory.position,
            created_at=directory.created_at,
            settings=DirectorySettingsOut.model_validate(
                directory.settings.model_dump(exclude={"bind_password"})
            ),
            bind_password_set=view.bind_password_set,
            synced_at=directory.synced_at,
            sync_progress=progress,
        )


class TestOut(BaseModel):
    users_in_scope: int
    seconds: float


class SyncOut(BaseModel):
    directory: str
    full: bool
    dry_run: bool
    counts: CountsOut
    started_at: float
    finished_at: float
    message: str | None
    problems: list[ProblemOut]
    created: list[ChangeOut] | None = Field(
        default=None, description=f"a dry run: the first {LIST_LIMIT} users it would create"
    )
    changed: list[ChangeOut] | None = Field(
        default=None, description=f"a dry run: the first {LIST_LIMIT} it would change"
    )
    disabled: list[ChangeOut] | None = Field(
        default=None, description=f"a dry run: the first {LIST_LIMIT} it would disable"
    )
    enabled: list[ChangeOut] | None = Field(
        default=None, description=f"a dry run: the first {LIST_LIMIT} it would enable"
    )

    @classmethod
    def of(cls, report: SyncReport) -> SyncOut:
        lists: dict[str, Any] = {}
        if report.dry_run:
            lists = {
                name: [ChangeOut.of(c) for c in getattr(report.lists, name)]
                for name in ("created", "changed", "disabled", "enabled")
            }
        return cls(
            directory=report.directory,
            full=report.full,
            dry_run=report.dry_run,
            counts=CountsOut.of(report.counts),
            started_at=report.started_at,
            finished_at=report.finished_at,
            message=report.message,
            problems=[ProblemOut.of(p) for p in report.problems],
            **lists,
        )


@router.post("", response_model=DirectoryOut, status_code=201, name="directory.add")
def add_directory(
    tenant: str,
    body: NewDirectoryBody,
    app: AppDep,
    actor: AdminDep,
) -> DirectoryOut:
    values = body.model_dump(exclude={"name", "position"})
    view = app.directories.add(actor, tenant, body.name, values, body.position)
    return DirectoryOut.of(view)


@router.get("", response_model=list[DirectoryOut])
def list_directories(tenant: str, app: AppDep, actor: AdminDep) -> list[DirectoryOut]:
    return [DirectoryOut.of(v) for v in app.directories.list(actor, tenant)]


@router.get("/{name}", response_model=DirectoryOut)
def get_directory(tenant: str, name: str, app: AppDep, actor: AdminDep) -> DirectoryOut:
    return DirectoryOut.of(app.directories.get(actor, tenant, name))


@router.patch("/{name}", response_model=DirectoryOut, name="directory.update")
def update_directory(
    tenant: str,
    name: str,
    body: DirectoryChangesBody,
    app: AppDep,
    actor: AdminDep,
) -> DirectoryOut:
    values = body.model_dump(exclude_unset=True, exclude={"position"})
    if isinstance(values.get("bind_password"), SecretStr):
        values["bind_password"] = values["bind_password"].get_secret_value()
    view = app.directories.update(actor, tenant, name, values, body.position)
    return DirectoryOut.of(view)


@router.delete("/{name}", status_code=204, name="directory.delete")
def delete_directory(tenant: str, name: str, app: AppDep, actor: AdminDep) -> Response:
    app.directories.delete(actor, tenant, name)
    return Response(status_code=204)


@router.post("/{name}/test", response_model=TestOut, responses=_UNAVAILABLE, name="directory.test")
def test_directory(tenant: str, name: str, app: AppDep, actor: AdminDep) -> TestOut:
    """Bind as the reading account and count the users in scope (filter and MFA group)."""
    result = app.directories.test(actor, tenant, name)
    return TestOut(users_in_scope=result.users_in_scope, seconds=result.seconds)


@router.post("/{name}/sync", response_model=SyncOut, responses=_UNAVAILABLE, name="directory.sync")
def sync_directory(
    tenant: str, name: str, app: AppDep, actor: AdminDep, body: SyncBody | None = None
) -> SyncOut:
    """Sync now, and answer when done (409 ``sync_running`` while another sync runs; its
    progress is on the directory). A dry run writes nothing and lists what would change."""
    wanted = body or SyncBody()
    report = app.directory_sync.sync(actor, tenant, name, full=wanted.full, dry_run=wanted.dry_run)
    return SyncOut.of(report)
