"""App passwords' table: names, digests (SHA-256) and when each was last used."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, nulls_last, select, update

from twostep.adapters.storage.tables import app_passwords
from twostep.domain.entities import AppPassword


def _app_password(row: Any) -> AppPassword:
    return AppPassword(
        id=row.id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


class SqlAppPasswordRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, app_password: AppPassword, digest: bytes) -> None:
        self.conn.execute(
            insert(app_passwords).values(
                id=app_password.id,
                tenant_id=app_password.tenant_id,
                user_id=app_password.user_id,
                name=app_password.name,
                digest=digest,
                created_at=app_password.created_at,
            )
        )

    def of_user(self, user_id: int) -> Sequence[tuple[AppPassword, bytes]]:
        c = app_passwords.c
        rows = self.conn.execute(
            select(app_passwords)
            .where(c.user_id == user_id)
            .order_by(nulls_last(c.last_used_at.desc()), c.created_at)
        )
        return [(_app_password(r), bytes(r.digest)) for r in rows]

    def count(self, user_id: int) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(app_passwords.c.user_id == user_id)
            ).scalar_one()
        )

    def delete(self, user_id: int, app_password_id: str) -> bool:
        c = app_passwords.c
        done = self.conn.execute(
            delete(app_passwords).where(c.user_id == user_id, c.id == app_password_id)
        )
        return done.rowcount == 1

    def delete_all(self, user_id: int) -> int:
        done = self.conn.execute(delete(app_passwords).where(app_passwords.c.user_id == user_id))
        return int(done.rowcount)

    def used(self, app_password_id: str, now: float) -> None:
        self.conn.execute(
            update(app_passwords)
            .where(app_passwords.c.id == app_password_id)
            .values(last_used_at=now)
        )
