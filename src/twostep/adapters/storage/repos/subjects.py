"""The validation read: tenant, user and methods (with sealed seeds) in one statement.

Two forms. By an integration key's id (``load_by_key``: the validate API), the key's
integration row comes in the same statement, so checking the key costs no statement of
its own. By tenant (``load``: RADIUS clients and pages, which hold no key), with whether
the asking integration waits to be activated again (a scalar subquery by its primary
key: no second round trip).

The user is found by the key of the typed name (``domain.names.name_key``, computed here
before the query), so any case or width variant reaches the one user and lockout counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, and_, bindparam, select

from twostep.adapters.storage.prepared import Prepared, row_type
from twostep.adapters.storage.repos.credentials import integration_from_row
from twostep.adapters.storage.repos.methods import method_from_row
from twostep.adapters.storage.repos.tenants import parse_settings
from twostep.adapters.storage.repos.users import user_from_row
from twostep.adapters.storage.tables import integrations, methods, tenants, users
from twostep.domain.entities import Method, Tenant
from twostep.domain.names import name_key
from twostep.domain.ports.subjects import Keyed, Subject

# Null when no integration is asked about (id -1 matches none) or it is active.
_PENDING = (
    select(integrations.c.pending_since)
    .where(integrations.c.id == bindparam("integration_id"))
    .scalar_subquery()
)
_SUBJECT_COLUMNS = [
    *(c.label(f"t_{c.name}") for c in tenants.c),
    *(c.label(f"u_{c.name}") for c in users.c),
    *(c.label(f"m_{c.name}") for c in methods.c),
]


def _with_user(tenant_side: FromClause) -> FromClause:
    return tenant_side.outerjoin(
        users, and_(users.c.tenant_id == tenants.c.id, users.c.name_key == bindparam("user_key"))
    ).outerjoin(methods, methods.c.user_id == users.c.id)


def _read(frm: FromClause, last: Sequence[ColumnElement[Any]], where: Any) -> Prepared:
    return Prepared(select(*_SUBJECT_COLUMNS, *last).select_from(frm).where(where))


_PENDING_LAST = [_PENDING.label("i_pending_since")]
_BY_ID = _read(_with_user(tenants), _PENDING_LAST, tenants.c.id == bindparam("tenant_id"))
_BY_NAME = _read(_with_user(tenants), _PENDING_LAST, tenants.c.name == bindparam("tenant_name"))
# By key: every row carries the integration; its tenant (or the one named) may be missing.
_INTEGRATION_LAST = [c.label(f"i_{c.name}") for c in integrations.c]
_BY_KEY = _read(
    _with_user(integrations.outerjoin(tenants, tenants.c.id == integrations.c.tenant_id)),
    _INTEGRATION_LAST,
    integrations.c.key_id == bindparam("key_id"),
)
_BY_KEY_AND_NAME = _read(
    _with_user(integrations.outerjoin(tenants, tenants.c.name == bindparam("tenant_name"))),
    _INTEGRATION_LAST,
    integrations.c.key_id == bindparam("key_id"),
)


# Column positions in a result row, so each part is a slice rather than a scan by name.
_T = [c.name for c in tenants.c]
_U = [c.name for c in users.c]
_M = [c.name for c in methods.c]
_I = [c.name for c in integrations.c]
_T_ID = _T.index("id")
_T_END = len(_T)
_U_END = _T_END + len(_U)
_U_ID = _T_END + _U.index("id")
_M_ID = _U_END + _M.index("id")
_M_END = _U_END + len(_M)  # then the last part: the pending flag, or the integration


# Each part of a row read by attribute, as the mappers do: ~5 us less a validation than a
# dict and then a SimpleNamespace per part.
_TenantPart = row_type("_TenantPart", _T)
_UserPart = row_type("_UserPart", _U)
_MethodPart = row_type("_MethodPart", _M)
_IntegrationPart = row_type("_IntegrationPart", _I)


class SqlSubjectRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def load(
        self,
        user_name: str,
        *,
        tenant_id: int | None = None,
        tenant_name: str | None = None,
        integration_id: int | None = None,
    ) -> Subject | None:
        key = name_key(user_name)
        asked = -1 if integration_id is None else integration_id
        if tenant_id is not None:
            params = {"tenant_id": tenant_id, "user_key": key, "integration_id": asked}
            rows = _BY_ID.rows(self.conn, params)
        else:
            params = {"tenant_name": tenant_name, "user_key": key, "integration_id": asked}
            rows = _BY_NAME.rows(self.conn, params)
        if not rows:
            return None
        return _subject(rows, pending=rows[0][_M_END] is not None)

    def load_by_key(
        self, user_name: str, key_id: str, *, tenant_name: str | None = None
    ) -> Keyed | None:
        params = {"key_id": key_id, "user_key": name_key(user_name)}
        if tenant_name is None:
            rows = _BY_KEY.rows(self.conn, params)
        else:
            rows = _BY_KEY_AND_NAME.rows(self.conn, {**params, "tenant_name": tenant_name})
        if not rows:
            return None
        part = _IntegrationPart._make(rows[0][_M_END:])
        integration = integration_from_row(part)
        subject = None
        if rows[0][_T_ID] is not None:
            subject = _subject(rows, pending=integration.pending_since is not None)
        return Keyed(integration, bytes(part.key_hash), subject)


def _subject(rows: list[tuple[Any, ...]], *, pending: bool) -> Subject:
    """The subject of a read's rows: one per method (one for a user without methods, or
    for no such user)."""
    first = rows[0]
    t = _TenantPart._make(first[:_T_END])
    tenant = Tenant(id=t.id, name=t.name, settings=parse_settings(t.settings))
    user = password_hash = None
    if first[_U_ID] is not None:
        u = _UserPart._make(first[_T_END:_U_END])
        user, password_hash = user_from_row(u), u.password_hash
    found: list[Method] = []
    sealed: dict[str, bytes] = {}
    for row in rows:
        if row[_M_ID] is not None:
            m = _MethodPart._make(row[_U_END:_M_END])
            found.append(method_from_row(m))
            if m.seed is not None:
                sealed[m.id] = m.seed
    found.sort(key=lambda method: method.created_at)
    return Subject(tenant, user, tuple(found), sealed, password_hash, pending)
