"""Challenges: every outcome is decided by one conditional update on a pending row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)

from twostep.adapters.storage.prepared import Prepared
from twostep.adapters.storage.repos.tenants import parse_settings
from twostep.adapters.storage.repos.users import user_from_row
from twostep.adapters.storage.tables import challenges, tenants, users
from twostep.domain.challenges import Challenge, ChallengeState, Parties
from twostep.domain.entities import MethodKind, Tenant
from twostep.domain.results import Reason

c = challenges.c
_PENDING = ChallengeState.PENDING.value
_NAMES = [col.name for col in challenges.c]

# The statements every challenge runs, compiled once (see prepared.py).
_INSERT = Prepared(insert(challenges), _NAMES)
_GET = Prepared(select(challenges).where(c.id == bindparam("b_id")))
# A challenge with its tenant and user, in one statement (every answer needs all three).
_PARTIES = select(
    challenges,
    tenants.c.name.label("t_name"),
    tenants.c.settings.label("t_settings"),
    *(col.label(f"u_{col.name}") for col in users.c),
).select_from(
    challenges.join(tenants, tenants.c.id == c.tenant_id).join(users, users.c.id == c.user_id)
)
_OPEN = (c.id == bindparam("b_id"), c.state == _PENDING, c.expires_at > bindparam("b_now"))
# An accept also checks, in the same statement, that the user is not locked: a failure
# locking the user on another node cannot slip between a check and the accept.
_UNLOCKED = ~exists().where(users.c.id == c.user_id, users.c.locked_until > bindparam("b_now"))
_ACCEPTED = {"state": ChallengeState.ACCEPTED.value, "finished_at": bindparam("b_now")}
_ACCEPT = Prepared(update(challenges).where(*_OPEN, _UNLOCKED).values(**_ACCEPTED))
_ACCEPT_ATTEMPT = Prepared(
    update(challenges)
    .where(*_OPEN, _UNLOCKED, c.attempts < c.max_attempts)
    .values(attempts=c.attempts + 1, **_ACCEPTED)
)
_DECIDE = Prepared(
    update(challenges)
    .where(*_OPEN)
    .values(
        state=bindparam("b_state"), reason=bindparam("b_reason"), finished_at=bindparam("b_now")
    )
)
# A fraud report is recorded once per challenge, whenever it comes: the first report wins.
_REPORT = Prepared(
    update(challenges)
    .where(c.id == bindparam("b_id"), c.reported_at.is_(None))
    .values(reported_at=bindparam("b_now"))
)
# A RADIUS State is single use: the first request carrying it wins it.
_USE_STATE = Prepared(
    update(challenges)
    .where(c.id == bindparam("b_id"), c.state_used_at.is_(None))
    .values(state_used_at=bindparam("b_now"))
)
_FINISH = Prepared(
    update(challenges)
    .where(c.id == bindparam("b_id"), c.state == _PENDING)
    .values(
        state=bindparam("b_state"), reason=bindparam("b_reason"), finished_at=bindparam("b_now")
    )
)
_DELIVERED = Prepared(
    update(challenges).where(c.id == bindparam("b_id")).values(gateway=bindparam("b_gateway"))
)


def _challenge(row: Any) -> Challenge:
    return Challenge(
        id=row.id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        method_id=row.method_id,
        kind=MethodKind(row.kind),
        state=ChallengeState(row.state),
        max_attempts=row.max_attempts,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_sent_at=row.last_sent_at,
        interface=row.interface,
        reason=row.reason,
        code_hash=row.code_hash,
        attempts=row.attempts,
        finished_at=row.finished_at,
        destination=row.destination,
        integration=row.integration,
        client_ip=row.client_ip,
        sends=row.sends,
        gateway=row.gateway,
        device_id=row.device_id,
        number=row.number,
        nonce=row.nonce,
        message=row.message,
        reported_at=row.reported_at,
        state_used_at=row.state_used_at,
    )


def _parties(row: Any) -> Parties:
    user = user_from_row(
        SimpleNamespace(**{col.name: getattr(row, f"u_{col.name}") for col in users.c})
    )
    tenant = Tenant(id=row.tenant_id, name=row.t_name, settings=parse_settings(row.t_settings))
    return Parties(_challenge(row), tenant, user)


class SqlChallengeRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, challenge: Challenge) -> None:
        _INSERT.rowcount(
            self.conn,
            dict(
                id=challenge.id,
                tenant_id=challenge.tenant_id,
                user_id=challenge.user_id,
                method_id=challenge.method_id,
                kind=challenge.kind.value,
                state=challenge.state.value,
                reason=challenge.reason,
                code_hash=challenge.code_hash,
                attempts=challenge.attempts,
                max_attempts=challenge.max_attempts,
                created_at=challenge.created_at,
                expires_at=challenge.expires_at,
                destination=challenge.destination,
                integration=challenge.integration,
                client_ip=challenge.client_ip,
                interface=challenge.interface,
                sends=challenge.sends,
                last_sent_at=challenge.last_sent_at,
                device_id=challenge.device_id,
                number=challenge.number,
                nonce=challenge.nonce,
                message=challenge.message,
                finished_at=challenge.finished_at,
                gateway=challenge.gateway,
                reported_at=challenge.reported_at,
                state_used_at=challenge.state_used_at,
            ),
        )

    def get(self, challenge_id: str) -> Challenge | None:
        rows = _GET.rows(self.conn, {"b_id": challenge_id})
        return (
            _challenge(SimpleNamespace(**dict(zip(_NAMES, rows[0], strict=True)))) if rows else None
        )

    def with_parties(self, challenge_id: str) -> Parties | None:
        row = self.conn.execute(_PARTIES.where(c.id == challenge_id)).first()
        return None if row is None else _parties(row)

    def accept(self, challenge_id: str, now: float, *, attempt: bool) -> bool:
        statement = _ACCEPT_ATTEMPT if attempt else _ACCEPT
        return statement.rowcount(self.conn, {"b_id": challenge_id, "b_now": now}) == 1

    def fail_attempt(self, challenge_id: str, now: float) -> Challenge | None:
        spent = c.attempts + 1 >= c.max_attempts
        row = self.conn.execute(
            update(challenges)
            .where(
                c.id == challenge_id,
                c.state == _PENDING,
                c.expires_at > now,
                c.attempts < c.max_attempts,
            )
            .values(
                attempts=c.attempts + 1,
                state=case((spent, ChallengeState.REJECTED.value), else_=c.state),
                reason=case((spent, Reason.TOO_MANY_ATTEMPTS.value), else_=c.reason),
                finished_at=case((spent, now), else_=c.finished_at),
            )
            .returning(*challenges.c)
        ).first()
        return None if row is None else _challenge(row)

    def decide(
        self, challenge_id: str, state: ChallengeState, reason: str | None, now: float
    ) -> bool:
        params = {"b_id": challenge_id, "b_state": state.value, "b_reason": reason, "b_now": now}
        return _DECIDE.rowcount(self.conn, params) == 1

    def report(self, challenge_id: str, now: float) -> bool:
        return _REPORT.rowcount(self.conn, {"b_id": challenge_id, "b_now": now}) == 1

    def use_state(self, challenge_id: str, now: float) -> bool:
        return _USE_STATE.rowcount(self.conn, {"b_id": challenge_id, "b_now": now}) == 1

    def release_state(self, challenge_id: str) -> None:
        self.conn.execute(update(challenges).where(c.id == challenge_id).values(state_used_at=None))

    def finish(
        self, challenge_id: str, state: ChallengeState, reason: str | None, now: float
    ) -> bool:
        params = {"b_id": challenge_id, "b_state": state.value, "b_reason": reason, "b_now": now}
        return _FINISH.rowcount(self.conn, params) == 1

    def delivered(self, challenge_id: str, gateway: str) -> None:
        _DELIVERED.rowcount(self.conn, {"b_id": challenge_id, "b_gateway": gateway[:64]})

    def resend(
        self,
        challenge_id: str,
        code_hash: bytes | None,
        now: float,
        interval: int,
        max_sends: int,
        new_code: bool = True,
    ) -> bool:
        # A call placed again keeps its PIN tries: calling again buys no extra guesses.
        fresh = {"code_hash": code_hash, "attempts": 0} if new_code else {}
        result = self.conn.execute(
            update(challenges)
            .where(
                c.id == challenge_id,
                c.state == _PENDING,
                c.expires_at > now,
                c.sends < max_sends,
                c.last_sent_at <= now - interval,
            )
            .values(sends=c.sends + 1, last_sent_at=now, **fresh)
        )
        return result.rowcount == 1

    def pending_for(
        self, tenant_ids: Sequence[int] | None, destination: str, kinds: Sequence[str]
    ) -> Sequence[Challenge]:
        stmt = select(challenges).where(
            c.destination == destination, c.state == _PENDING, c.kind.in_(kinds)
        )
        if tenant_ids is not None:
            stmt = stmt.where(c.tenant_id.in_(tenant_ids))
        rows = self.conn.execute(stmt.order_by(c.created_at.desc()).limit(20))
        return [_challenge(row) for row in rows]

    def latest_for(
        self, tenant_ids: Sequence[int] | None, destination: str, kinds: Sequence[str]
    ) -> Challenge | None:
        stmt = select(challenges).where(c.destination == destination, c.kind.in_(kinds))
        if tenant_ids is not None:
            stmt = stmt.where(c.tenant_id.in_(tenant_ids))
        row = self.conn.execute(stmt.order_by(c.created_at.desc()).limit(1)).first()
        return None if row is None else _challenge(row)

    def overdue(self, now: float, limit: int) -> Sequence[Parties]:
        rows = self.conn.execute(
            _PARTIES.where(c.state == _PENDING, c.expires_at <= now)
            .order_by(c.expires_at)
            .limit(limit)
        )
        return [_parties(row) for row in rows]

    def states(self, challenge_ids: Sequence[str]) -> Mapping[str, tuple[ChallengeState, float]]:
        if not challenge_ids:
            return {}
        rows = self.conn.execute(select(c.id, c.state, c.expires_at).where(c.id.in_(challenge_ids)))
        return {row.id: (ChallengeState(row.state), row.expires_at) for row in rows}

    def pending_of_user(self, user_id: int, now: float) -> Sequence[str]:
        rows = self.conn.execute(
            select(c.id).where(c.user_id == user_id, c.state == _PENDING, c.expires_at > now)
        )
        return [row.id for row in rows]

    def pending_for_device(self, device_id: str, now: float) -> Sequence[Challenge]:
        rows = self.conn.execute(
            select(challenges)
            .where(c.device_id == device_id, c.state == _PENDING, c.expires_at > now)
            .order_by(c.created_at)
            .limit(10)
        )
        return [_challenge(row) for row in rows]

    def devices_with_pending(self, device_ids: Sequence[str], now: float) -> set[str]:
        if not device_ids:
            return set()
        rows = self.conn.execute(
            select(c.device_id)
            .distinct()
            .where(c.device_id.in_(device_ids), c.state == _PENDING, c.expires_at > now)
        )
        return {row.device_id for row in rows}

    def pending_count(self, user_id: int, kind: str, now: float) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(
                    c.user_id == user_id,
                    c.kind == kind,
                    c.state == _PENDING,
                    c.expires_at > now,
                )
            ).scalar_one()
        )

    def denials_since(self, user_id: int, kind: str, since: float) -> tuple[int, float | None]:
        """How many requests of ``kind`` the user denied since ``since``, and the last one's
        time."""
        row = self.conn.execute(
            select(func.count(), func.max(c.finished_at)).where(
                c.user_id == user_id,
                c.kind == kind,
                c.reason == Reason.DENIED.value,
                c.finished_at >= since,
            )
        ).one()
        return int(row[0]), row[1]

    def purge(self, before: float) -> int:
        return self.conn.execute(delete(challenges).where(c.expires_at < before)).rowcount
