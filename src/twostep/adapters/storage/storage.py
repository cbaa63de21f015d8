"""``SqlStorage``: the ``Storage`` port over one SQLAlchemy engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from twostep.adapters.storage.repos.audit import SqlAuditRepo
from twostep.adapters.storage.repos.credentials import SqlAdminKeyRepo, SqlIntegrationRepo
from twostep.adapters.storage.repos.methods import SqlMethodRepo
from twostep.adapters.storage.repos.subjects import SqlSubjectRepo
from twostep.adapters.storage.repos.tenants import SqlTenantRepo
from twostep.adapters.storage.repos.users import SqlUserRepo
from twostep.domain.errors import Conflict


class SqlTransaction:
    def __init__(self, conn: Connection) -> None:
        self.tenants = SqlTenantRepo(conn)
        self.users = SqlUserRepo(conn)
        self.methods = SqlMethodRepo(conn)
        self.integrations = SqlIntegrationRepo(conn)
        self.admin_keys = SqlAdminKeyRepo(conn)
        self.audit = SqlAuditRepo(conn)
        self.subjects = SqlSubjectRepo(conn)


class SqlStorage:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._immediate = engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[SqlTransaction]:
        with self.engine.connect() as raw:
            conn = (
                raw.execution_options(sqlite_immediate=True) if write and self._immediate else raw
            )
            try:
                with conn.begin():
                    yield SqlTransaction(conn)
            except IntegrityError as exc:
                # Two writers raced past the same existence check: the loser hears 409.
                raise Conflict("a concurrent change conflicts with this one; retry") from exc
