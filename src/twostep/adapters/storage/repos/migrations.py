"""A migration's bulk reads and writes (domain/ports/migrations.py): users inserted a
batch per statement, the tenant's methods and seeds read in one query each."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, insert, select

from twostep.adapters.storage.repos.methods import PUBLIC, method_from_row
from twostep.adapters.storage.tables import methods, users
from twostep.domain.entities import Method
from twostep.domain.names import name_key
from twostep.domain.ports.migrations import MigratedUser


class SqlMigrationRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_users(self, tenant_id: int, new: Sequence[MigratedUser], now: float) -> list[int]:
        """At most a thousand users a call (the IN list of the read below)."""
        if not new:
            return []
        rows = [
            {
                "tenant_id": tenant_id,
                "name": user.name,
                "name_key": name_key(user.name),
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "phone": user.phone,
                "mfa": user.mfa.value,
                "language": user.language,
                "failed_count": 0,
                "created_at": now,
                "groups": json.dumps(list(user.groups)) if user.groups else None,
                "default_method_id": user.default_method_id,
                "registration_required_at": user.registration_required_at,
            }
            for user in new
        ]
        # One executemany, then the ids by name key in one read: RETURNING with the rows'
        # order kept costs SQLite one statement per row.
        self.conn.execute(insert(users), rows)
        keys = [row["name_key"] for row in rows]
        found = dict(
            self.conn.execute(
                select(users.c.name_key, users.c.id).where(
                    users.c.tenant_id == tenant_id, users.c.name_key.in_(keys)
                )
            ).all()
        )
        return [found[key] for key in keys]

    def methods_by_user(self, tenant_id: int) -> dict[int, list[Method]]:
        found: defaultdict[int, list[Method]] = defaultdict(list)
        query = select(*PUBLIC).where(
            methods.c.tenant_id == tenant_id, methods.c.user_id.is_not(None)
        )
        for row in self.conn.execute(query.order_by(methods.c.created_at)):
            found[row.user_id].append(method_from_row(row))
        return dict(found)

    def sealed_seeds(self, tenant_id: int, kind: str) -> dict[str, bytes]:
        query = select(methods.c.id, methods.c.seed).where(
            methods.c.tenant_id == tenant_id, methods.c.kind == kind, methods.c.seed.is_not(None)
        )
        return {row.id: row.seed for row in self.conn.execute(query)}
