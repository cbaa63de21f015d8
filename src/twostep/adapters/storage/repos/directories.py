"""Directories (settings as JSON, the bind password sealed), their sync leases, and the
user writes of a sync."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from twostep.adapters.storage.repos.users import user_from_row
from twostep.adapters.storage.tables import directories, leases, methods, users
from twostep.domain.directory import Directory, DirectorySettings
from twostep.domain.entities import MethodKind, MfaState, User
from twostep.domain.names import name_key
from twostep.domain.ports.directory import DirectoryUser, Member

d = directories.c
u = users.c

# Rows per statement with an IN list: far below SQLite's variable limit (999 before 3.32),
# so a directory of any size is written in bounded statements.
CHUNK = 500

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def settings_json(settings: DirectorySettings) -> str:
    """The settings as stored: never the password (it is sealed in ``secrets``)."""
    return json.dumps(settings.model_dump(mode="json", exclude={"bind_password"}), sort_keys=True)


def _directory(row: Any) -> Directory:
    return Directory(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        settings=DirectorySettings.model_validate(json.loads(row.settings)),
        position=row.position,
        created_at=row.created_at,
        sync_cursor=row.sync_cursor,
        synced_at=row.synced_at,
    )


class SqlDirectoryRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, directory: Directory, sealed_password: bytes | None) -> None:
        self.conn.execute(
            insert(directories).values(
                id=directory.id,
                tenant_id=directory.tenant_id,
                name=directory.name,
                settings=settings_json(directory.settings),
                secrets=sealed_password,
                position=directory.position,
                created_at=directory.created_at,
                sync_cursor=directory.sync_cursor,
                synced_at=directory.synced_at,
            )
        )

    def by_id(self, directory_id: str) -> Directory | None:
        row = self.conn.execute(select(directories).where(d.id == directory_id)).first()
        return None if row is None else _directory(row)

    def by_name(self, tenant_id: int, name: str) -> Directory | None:
        row = self.conn.execute(
            select(directories).where(d.tenant_id == tenant_id, d.name == name)
        ).first()
        return None if row is None else _directory(row)

    def list(self, tenant_id: int | None = None) -> Sequence[Directory]:
        query = select(directories)
        if tenant_id is not None:
            query = query.where(d.tenant_id == tenant_id)
        rows = self.conn.execute(query.order_by(d.tenant_id, d.position, d.created_at))
        return [_directory(row) for row in rows]

    def update(self, directory: Directory, sealed_password: bytes | None) -> None:
        self.conn.execute(
            update(directories)
            .where(d.id == directory.id)
            .values(
                settings=settings_json(directory.settings),
                secrets=sealed_password,
                position=directory.position,
                sync_cursor=directory.sync_cursor,
            )
        )

    def sealed_password(self, directory_id: str) -> bytes | None:
        found = self.conn.execute(
            select(d.secrets).where(d.id == directory_id)
        ).scalar_one_or_none()
        return None if found is None else bytes(found)

    def delete(self, directory_id: str) -> None:
        # Its users stay, made by hand from now on (users.directory_id has no foreign key).
        self.conn.execute(
            update(users)
            .where(u.directory_id == directory_id)
            .values(directory_id=None, external_id=None, dn=None)
        )
        self.conn.execute(delete(directories).where(d.id == directory_id))

    def save_progress(self, directory_id: str, progress: str) -> None:
        self.conn.execute(
            update(directories).where(d.id == directory_id).values(sync_progress=progress)
        )

    def progress(self, directory_id: str) -> str | None:
        found: str | None = self.conn.execute(
            select(d.sync_progress).where(d.id == directory_id)
        ).scalar_one_or_none()
        return found

    def finish_sync(self, directory_id: str, cursor: str | None, at: float) -> None:
        self.conn.execute(
            update(directories).where(d.id == directory_id).values(sync_cursor=cursor, synced_at=at)
        )


class SqlLeaseRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def take(self, name: str, holder: str, now: float, until: float) -> bool:
        # One statement: insert, or take over a lease that expired or is already ours. The
        # database decides between nodes racing for it; RETURNING says who won.
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(leases).values(name=name, holder=holder, expires_at=until)
        statement = statement.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={"holder": holder, "expires_at": until},
            where=(leases.c.expires_at <= now) | (leases.c.holder == holder),
        ).returning(leases.c.holder)
        return self.conn.execute(statement).first() is not None

    def release(self, name: str, holder: str) -> None:
        self.conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))


def _member(row: Any) -> Member:
    return Member(
        user_id=row.id,
        external_id=row.external_id,
        name=row.name,
        dn=row.dn,
        disabled_reason=row.disabled_reason,
    )


def _fields(user: DirectoryUser) -> dict[str, Any]:
    return {
        "name": user.name,
        "name_key": name_key(user.name),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        "external_id": user.external_id,
        "dn": user.dn,
        "groups": json.dumps(list(user.groups)) if user.groups else None,
    }


class SqlDirectoryUserRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def by_external_ids(self, directory_id: str, external_ids: Sequence[str]) -> dict[str, User]:
        found: dict[str, User] = {}
        for part in chunks(external_ids):
            rows = self.conn.execute(
                select(users).where(u.directory_id == directory_id, u.external_id.in_(part))
            )
            found.update((row.external_id, user_from_row(row)) for row in rows)
        return found

    def by_name_keys(self, tenant_id: int, keys: Sequence[str]) -> dict[str, User]:
        found: dict[str, User] = {}
        for part in chunks(keys):
            rows = self.conn.execute(
                select(users).where(u.tenant_id == tenant_id, u.name_key.in_(part))
            )
            found.update((row.name_key, user_from_row(row)) for row in rows)
        return found

    def create(
        self,
        tenant_id: int,
        directory_id: str,
        new: Sequence[tuple[DirectoryUser, str | None]],
        now: float,
    ) -> list[int]:
        # One statement for the batch (SQLAlchemy's insertmanyvalues, ids in order): a
        # statement per user would cost more than the rest of the sync.
        rows = [
            {
                "tenant_id": tenant_id,
                "directory_id": directory_id,
                "mfa": MfaState.ENABLED.value,
                "failed_count": 0,
                "created_at": now,
                "disabled_at": now if reason else None,
                "disabled_reason": reason,
                **_fields(user),
            }
            for user, reason in new
        ]
        statement = insert(users).returning(u.id, sort_by_parameter_order=True)
        return [row[0] for row in self.conn.execute(statement, rows)]

    def update(self, user_id: int, directory_id: str, user: DirectoryUser) -> None:
        self.conn.execute(
            update(users).where(u.id == user_id).values(directory_id=directory_id, **_fields(user))
        )

    def members(self, directory_id: str, after_id: int, limit: int) -> Sequence[Member]:
        rows = self.conn.execute(
            select(u.id, u.external_id, u.name, u.dn, u.disabled_reason)
            .where(u.directory_id == directory_id, u.id > after_id)
            .order_by(u.id)
            .limit(limit)
        )
        return [_member(row) for row in rows]

    def disable(self, user_ids: Sequence[int], at: float, reason: str) -> int:
        done = 0
        for part in chunks(user_ids):
            result = self.conn.execute(
                update(users)
                .where(u.id.in_(part), u.disabled_at.is_(None))
                .values(disabled_at=at, disabled_reason=reason)
            )
            done += result.rowcount
        return done

    def method_kinds(self, user_ids: Sequence[int]) -> dict[int, set[MethodKind]]:
        found: dict[int, set[MethodKind]] = {}
        m = methods.c
        for part in chunks(user_ids):
            rows = self.conn.execute(
                select(m.user_id, m.kind).where(m.user_id.in_(part)).distinct()
            )
            for user_id, kind in rows:
                found.setdefault(user_id, set()).add(MethodKind(kind))
        return found
