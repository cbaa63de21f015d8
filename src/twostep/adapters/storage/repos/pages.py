"""Admin grants and page sessions (the pages' stores, domain/ports/pages.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from twostep.adapters.storage.tables import admin_grants, page_sessions, tenants, users
from twostep.domain.entities import Role
from twostep.domain.pages import AdminGrant, PageSession, Stage

_scope = tenants.alias()  # a Core alias: the ORM stays unloaded
_GRANTS = (
    select(
        admin_grants,
        tenants.c.name.label("tenant"),
        users.c.name.label("user"),
        _scope.c.name.label("scope"),
    )
    .join(tenants, tenants.c.id == admin_grants.c.tenant_id)
    .join(users, users.c.id == admin_grants.c.user_id)
    .outerjoin(_scope, _scope.c.id == admin_grants.c.scope_tenant_id)
)


def _grant(row: Any) -> AdminGrant:
    return AdminGrant(
        id=row.id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        role=Role(row.role),
        scope_tenant_id=row.scope_tenant_id,
        created_at=row.created_at,
        tenant=row.tenant,
        user=row.user,
        scope=row.scope,
    )


class SqlAdminGrantRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, grant: AdminGrant) -> None:
        self.conn.execute(
            admin_grants.insert().values(
                id=grant.id,
                tenant_id=grant.tenant_id,
                user_id=grant.user_id,
                role=grant.role.value,
                scope_tenant_id=grant.scope_tenant_id,
                created_at=grant.created_at,
            )
        )

    def by_id(self, grant_id: str) -> AdminGrant | None:
        row = self.conn.execute(_GRANTS.where(admin_grants.c.id == grant_id)).first()
        return None if row is None else _grant(row)

    def for_user(self, user_id: int) -> Sequence[AdminGrant]:
        rows = self.conn.execute(
            _GRANTS.where(admin_grants.c.user_id == user_id).order_by(admin_grants.c.created_at)
        )
        return [_grant(r) for r in rows]

    def find(self, user_id: int, role: Role, scope_tenant_id: int | None) -> AdminGrant | None:
        scope = (
            admin_grants.c.scope_tenant_id.is_(None)
            if scope_tenant_id is None
            else admin_grants.c.scope_tenant_id == scope_tenant_id
        )
        row = self.conn.execute(
            _GRANTS.where(
                admin_grants.c.user_id == user_id, admin_grants.c.role == role.value, scope
            )
        ).first()
        return None if row is None else _grant(row)

    def list(self, scope_tenant_id: int | None = None) -> Sequence[AdminGrant]:
        query = _GRANTS
        if scope_tenant_id is not None:
            query = query.where(
                or_(
                    admin_grants.c.scope_tenant_id == scope_tenant_id,
                    admin_grants.c.tenant_id == scope_tenant_id,
                )
            )
        rows = self.conn.execute(
            query.order_by(tenants.c.name, users.c.name_key, admin_grants.c.id)
        )
        return [_grant(r) for r in rows]

    def delete(self, grant_id: str) -> bool:
        result = self.conn.execute(delete(admin_grants).where(admin_grants.c.id == grant_id))
        return result.rowcount == 1


_SESSIONS = (
    select(
        page_sessions,
        tenants.c.name.label("tenant"),
        users.c.name.label("user"),
        users.c.language.label("language"),
    )
    .join(tenants, tenants.c.id == page_sessions.c.tenant_id)
    .join(users, users.c.id == page_sessions.c.user_id)
)


class SqlPageSessionRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, session: PageSession) -> None:
        self.conn.execute(
            page_sessions.insert().values(
                id=session.id,
                tenant_id=session.tenant_id,
                user_id=session.user_id,
                stage=session.stage.value,
                role=session.role.value if session.role is not None else None,
                scope_tenant_id=session.scope_tenant_id,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                idle_seconds=session.idle_seconds,
                expires_at=session.expires_at,
                client_ip=session.client_ip,
                data=session.data,
            )
        )

    def by_id(self, session_id: str) -> PageSession | None:
        row = self.conn.execute(_SESSIONS.where(page_sessions.c.id == session_id)).first()
        if row is None:
            return None
        return PageSession(
            id=row.id,
            tenant_id=row.tenant_id,
            user_id=row.user_id,
            stage=Stage(row.stage),
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            idle_seconds=row.idle_seconds,
            expires_at=row.expires_at,
            role=Role(row.role) if row.role is not None else None,
            scope_tenant_id=row.scope_tenant_id,
            revoked_at=row.revoked_at,
            client_ip=row.client_ip,
            data=row.data,
            tenant=row.tenant,
            user=row.user,
            language=row.language,
        )

    def touch(self, session_id: str, now: float) -> None:
        self.conn.execute(
            update(page_sessions)
            .where(page_sessions.c.id == session_id, page_sessions.c.last_seen_at < now)
            .values(last_seen_at=now)
        )

    def set_data(self, session_id: str, data: str | None) -> None:
        self.conn.execute(
            update(page_sessions).where(page_sessions.c.id == session_id).values(data=data)
        )

    def revoke(self, session_id: str, now: float) -> bool:
        result = self.conn.execute(
            update(page_sessions)
            .where(page_sessions.c.id == session_id, page_sessions.c.revoked_at.is_(None))
            .values(revoked_at=now, data=None)
        )
        return result.rowcount == 1

    def revoke_user(self, user_id: int, now: float) -> int:
        result = self.conn.execute(
            update(page_sessions)
            .where(
                page_sessions.c.user_id == user_id,
                page_sessions.c.revoked_at.is_(None),
                page_sessions.c.expires_at > now,
            )
            .values(revoked_at=now, data=None)
        )
        return int(result.rowcount)

    def delete_expired(self, now: float, limit: int) -> int:
        ids = select(page_sessions.c.id).where(page_sessions.c.expires_at <= now).limit(limit)
        result = self.conn.execute(delete(page_sessions).where(page_sessions.c.id.in_(ids)))
        return int(result.rowcount)
