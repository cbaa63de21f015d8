from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, insert, or_, select, update

from twostep.adapters.storage.prepared import Prepared
from twostep.adapters.storage.tables import users
from twostep.domain.entities import MfaState, User
from twostep.domain.names import name_key
from twostep.domain.ports.users import NewUser


def user_from_row(row: Any) -> User:
    return User(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        phone=row.phone,
        mfa=MfaState(row.mfa),
        default_method_id=row.default_method_id,
        failed_count=row.failed_count,
        locked_until=row.locked_until,
        language=row.language,
        directory_id=row.directory_id,
        external_id=row.external_id,
        dn=row.dn,
        groups=tuple(json.loads(row.groups)) if row.groups else (),
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        registration_required_at=row.registration_required_at,
        bypass_until=row.bypass_until,
    )


# One statement each, so concurrent failures on several nodes all count. A lockout that
# has run out starts the count afresh instead of re-locking at once.
_EXPIRED = users.c.locked_until.is_not(None) & (users.c.locked_until <= bindparam("b_now"))
_NEW_COUNT = case((_EXPIRED, 1), else_=users.c.failed_count + 1)
_RECORD_FAILURE = Prepared(
    update(users)
    .where(users.c.id == bindparam("b_id"))
    .values(
        failed_count=_NEW_COUNT,
        locked_until=case(
            (bindparam("b_max") <= _NEW_COUNT, bindparam("b_until")),
            (_EXPIRED, None),
            else_=users.c.locked_until,
        ),
    )
    .returning(users.c.failed_count)
)
# A one-time bypass is used by exactly one sign-in on any node: the clearing update is
# conditional on the window, the tenant (never another tenant's integration) and the user
# not locked or disabled at that moment.
_CLAIM_BYPASS = Prepared(
    update(users)
    .where(
        users.c.id == bindparam("b_id"),
        users.c.tenant_id == bindparam("b_tenant"),
        users.c.bypass_until > bindparam("b_now"),
        users.c.disabled_at.is_(None),
        or_(users.c.locked_until.is_(None), users.c.locked_until <= bindparam("b_now")),
    )
    .values(bypass_until=None)
)
_RESET = Prepared(
    update(users)
    .where(
        users.c.id == bindparam("b_id"),
        or_(users.c.locked_until.is_(None), users.c.locked_until <= bindparam("b_now")),
    )
    .values(failed_count=0, locked_until=None)
)


class SqlUserRepo:
    """Users are found by any variant of their name (case, width, normalisation): every
    lookup compares ``name_key``, never the display name."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, tenant_id: int, user: NewUser, now: float) -> User:
        user_id = self.conn.execute(
            insert(users)
            .values(
                tenant_id=tenant_id,
                name=user.name,
                name_key=name_key(user.name),
                first_name=user.first_name,
                last_name=user.last_name,
                email=user.email,
                phone=user.phone,
                mfa=user.mfa.value,
                language=user.language,
                failed_count=0,
                created_at=now,
            )
            .returning(users.c.id)
        ).scalar_one()
        return User(
            id=user_id,
            tenant_id=tenant_id,
            name=user.name,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            phone=user.phone,
            mfa=user.mfa,
            language=user.language,
        )

    def by_name(self, tenant_id: int, name: str) -> User | None:
        row = self.conn.execute(
            select(users).where(users.c.tenant_id == tenant_id, users.c.name_key == name_key(name))
        ).first()
        return None if row is None else user_from_row(row)

    def registered(self, user_id: int, method_id: str) -> None:
        self.conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.default_method_id.is_(None))
            .values(default_method_id=method_id)
        )
        self.conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.registration_required_at.is_not(None))
            .values(registration_required_at=None)
        )
        self.conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.mfa == MfaState.ENABLED.value)
            .values(mfa=MfaState.ENFORCED.value)
        )

    def by_id(self, user_id: int) -> User | None:
        row = self.conn.execute(select(users).where(users.c.id == user_id)).first()
        return None if row is None else user_from_row(row)

    def list(self, tenant_id: int, after: str | None, limit: int) -> Sequence[User]:
        """In the order of their keys (case-insensitive); ``after`` is the last name of the
        previous page, in any case."""
        query = select(users).where(users.c.tenant_id == tenant_id)
        if after is not None:
            query = query.where(users.c.name_key > name_key(after))
        rows = self.conn.execute(query.order_by(users.c.name_key).limit(limit))
        return [user_from_row(r) for r in rows]

    def update(self, user: User) -> None:
        self.conn.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(
                first_name=user.first_name,
                last_name=user.last_name,
                email=user.email,
                phone=user.phone,
                mfa=user.mfa.value,
                language=user.language,
            )
        )

    def delete(self, user_id: int) -> None:
        self.conn.execute(delete(users).where(users.c.id == user_id))

    def set_default_method(self, user_id: int, method_id: str | None) -> None:
        self.conn.execute(
            update(users).where(users.c.id == user_id).values(default_method_id=method_id)
        )

    def record_failure(
        self, user_id: int, now: float, max_failures: int, lock_until: float
    ) -> bool:
        params = {"b_id": user_id, "b_now": now, "b_max": max_failures, "b_until": lock_until}
        rows = _RECORD_FAILURE.rows(self.conn, params)
        return bool(rows) and rows[0][0] == max_failures

    def reset_failures_unless_locked(self, user_id: int, now: float) -> bool:
        return _RESET.rowcount(self.conn, {"b_id": user_id, "b_now": now}) == 1

    def locked(self, user_id: int, now: float) -> bool:
        until = self.conn.execute(
            select(users.c.locked_until).where(users.c.id == user_id)
        ).scalar_one_or_none()
        return until is not None and until > now

    def lock(self, user_id: int, until: float) -> None:
        # Never shortens a lock already there (a fraud block of 90 days must not cut short
        # one until an admin unlocks); the admin's unlock ends either.
        longer = case((users.c.locked_until > until, users.c.locked_until), else_=until)
        self.conn.execute(update(users).where(users.c.id == user_id).values(locked_until=longer))

    def forgive_failure(self, user_id: int, now: float) -> None:
        self.conn.execute(
            update(users)
            .where(
                users.c.id == user_id,
                users.c.failed_count > 0,
                or_(users.c.locked_until.is_(None), users.c.locked_until <= now),
            )
            .values(failed_count=users.c.failed_count - 1)
        )

    def unlock(self, user_id: int) -> None:
        self.conn.execute(
            update(users).where(users.c.id == user_id).values(failed_count=0, locked_until=None)
        )

    def grant_bypass(self, user_id: int, until: float) -> None:
        self.conn.execute(update(users).where(users.c.id == user_id).values(bypass_until=until))

    def cancel_bypass(self, user_id: int, now: float) -> bool:
        done = self.conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.bypass_until > now)
            .values(bypass_until=None)
        )
        return done.rowcount == 1

    def claim_bypass(self, user_id: int, tenant_id: int, now: float) -> bool:
        params = {"b_id": user_id, "b_tenant": tenant_id, "b_now": now}
        return _CLAIM_BYPASS.rowcount(self.conn, params) == 1

    def require_registration(self, user_id: int, now: float) -> None:
        self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(registration_required_at=now, default_method_id=None)
        )

    def set_disabled(self, user_id: int, at: float | None, reason: str | None) -> bool:
        """Disable (``at`` set) or enable (``None``) the user; False if already so."""
        state = (
            users.c.disabled_at.is_(None) if at is not None else users.c.disabled_at.is_not(None)
        )
        done = self.conn.execute(
            update(users)
            .where(users.c.id == user_id, state)
            .values(disabled_at=at, disabled_reason=reason if at is not None else None)
        )
        return done.rowcount == 1

    def set_groups(self, user_id: int, groups: Sequence[str]) -> None:
        self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(groups=json.dumps(list(groups)) if groups else None)
        )
