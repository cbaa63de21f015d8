"""Users' local primary passwords: argon2id hashes in ``users.password_hash``."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from twostep.adapters.storage.tables import users


class SqlPasswordRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, user_id: int) -> str | None:
        value = self.conn.execute(
            select(users.c.password_hash).where(users.c.id == user_id)
        ).scalar_one_or_none()
        return None if value is None else str(value)

    def set(self, user_id: int, password_hash: str | None) -> None:
        self.conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )
