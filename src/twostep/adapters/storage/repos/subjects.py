"""The validation read: tenant, user and methods (with sealed seeds) in one statement,
with whether the asking integration waits to be activated again (a scalar subquery by its
primary key: no second round trip).

The user is found by the key of the typed name (``domain.names.name_key``, computed here
before the query), so any case or width variant reaches the one user and lockout counter.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, bindparam, select

from twostep.adapters.storage.prepared import Prepared, row_type
from twostep.adapters.storage.repos.methods import method_from_row
from twostep.adapters.storage.repos.tenants import parse_settings
from twostep.adapters.storage.repos.users import user_from_row
from twostep.adapters.storage.tables import integrations, methods, tenants, users
from twostep.domain.entities import Method, Tenant
from twostep.domain.names import name_key
from twostep.domain.ports.subjects import Subject

# Null when no integration is asked about (id -1 matches none) or it is active.
_PENDING = (
    select(integrations.c.pending_since)
    .where(integrations.c.id == bindparam("integration_id"))
    .scalar_subquery()
)
_COLUMNS = [
    *(c.label(f"t_{c.name}") for c in tenants.c),
    *(c.label(f"u_{c.name}") for c in users.c),
    *(c.label(f"m_{c.name}") for c in methods.c),
    _PENDING.label("i_pending_since"),
]
_FROM = tenants.outerjoin(
    users, and_(users.c.tenant_id == tenants.c.id, users.c.name_key == bindparam("user_key"))
).outerjoin(methods, methods.c.user_id == users.c.id)
_BY_ID = Prepared(
    select(*_COLUMNS).select_from(_FROM).where(tenants.c.id == bindparam("tenant_id"))
)
_BY_NAME = Prepared(
    select(*_COLUMNS).select_from(_FROM).where(tenants.c.name == bindparam("tenant_name"))
)


# Column positions in a result row, so each part is a slice rather than a scan by name.
_T = [c.name for c in tenants.c]
_U = [c.name for c in users.c]
_M = [c.name for c in methods.c]
_T_END = len(_T)
_U_END = _T_END + len(_U)
_U_ID = _T_END + _U.index("id")
_M_ID = _U_END + _M.index("id")
_M_END = _U_END + len(_M)
_PENDING_AT = _M_END  # the integration's pending_since, last


# Each part of a row read by attribute, as the mappers do: ~5 us less a validation than a
# dict and then a SimpleNamespace per part.
_TenantPart = row_type("_TenantPart", _T)
_UserPart = row_type("_UserPart", _U)
_MethodPart = row_type("_MethodPart", _M)


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
        tenant = user = None
        pending = False
        password_hash = None
        found: list[Method] = []
        sealed: dict[str, bytes] = {}
        for row in rows:
            if tenant is None:
                t = _TenantPart._make(row[:_T_END])
                tenant = Tenant(id=t.id, name=t.name, settings=parse_settings(t.settings))
                pending = row[_PENDING_AT] is not None
                if row[_U_ID] is not None:
                    u = _UserPart._make(row[_T_END:_U_END])
                    user, password_hash = user_from_row(u), u.password_hash
            if row[_M_ID] is not None:
                m = _MethodPart._make(row[_U_END:_M_END])
                found.append(method_from_row(m))
                if m.seed is not None:
                    sealed[m.id] = m.seed
        if tenant is None:
            return None
        found.sort(key=lambda method: method.created_at)
        return Subject(tenant, user, tuple(found), sealed, password_hash, pending)
