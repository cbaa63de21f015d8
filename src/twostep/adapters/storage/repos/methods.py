from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, insert, select, update

from twostep.adapters.storage.prepared import Prepared
from twostep.adapters.storage.tables import methods, users
from twostep.domain.entities import (
    Method,
    MethodKind,
    MethodStatus,
    OtpAlgorithm,
    OtpParams,
    OtpType,
)
from twostep.domain.ports.methods import NewMethod

# The one-time-use claims run on every accepted code: built once, not per call.
# A locked user's codes are not spent: the lock check rides in the same statement.
_UNLOCKED = ~exists().where(
    users.c.id == methods.c.user_id, users.c.locked_until > bindparam("b_now")
)
_CLAIM_STEP = Prepared(
    update(methods)
    .where(methods.c.id == bindparam("b_id"), methods.c.last_step < bindparam("b_step"), _UNLOCKED)
    .values(last_step=bindparam("b_step"))
)
_CLAIM_COUNTER = Prepared(
    update(methods)
    .where(
        methods.c.id == bindparam("b_id"), methods.c.counter <= bindparam("b_matched"), _UNLOCKED
    )
    .values(counter=bindparam("b_next"))
)

# Every column but the sealed ones: a method is listed and shown without its secrets.
PUBLIC = [c for c in methods.c if c.name not in ("seed", "pin")]


def method_from_row(row: Any) -> Method:
    otp = None
    if row.otp_type is not None:
        otp = OtpParams(
            type=OtpType(row.otp_type),
            algorithm=OtpAlgorithm(row.algorithm),
            digits=row.digits,
            period=row.period,
        )
    return Method(
        id=row.id,
        user_id=row.user_id,
        kind=MethodKind(row.kind),
        status=MethodStatus(row.status),
        label=row.label,
        otp=otp,
        serial=row.serial,
        counter=row.counter,
        last_step=row.last_step,
        drift=row.drift,
        created_at=row.created_at,
        manufacturer=row.manufacturer,
        model=row.model,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        phone=row.phone,
        extension=row.extension,
        email=row.email,
        device_id=row.device_id,
    )


def new_method_row(method: NewMethod, now: float) -> dict[str, object]:
    otp = method.otp
    return {
        "id": method.id,
        "user_id": method.user_id,
        "tenant_id": method.tenant_id,
        "kind": method.kind.value,
        "status": method.status.value,
        "label": method.label,
        "serial": method.serial,
        "otp_type": otp.type.value if otp else None,
        "algorithm": otp.algorithm.value if otp else None,
        "digits": otp.digits if otp else None,
        "period": otp.period if otp else None,
        "seed": method.sealed_seed,
        "counter": method.counter,
        "last_step": -1,
        "drift": method.drift,
        "created_at": now,
        "confirmed_at": now if method.status is MethodStatus.ACTIVE else None,
        "manufacturer": method.manufacturer,
        "model": method.model,
        "valid_from": method.valid_from,
        "valid_until": method.valid_until,
        "phone": method.phone,
        "extension": method.extension,
        "email": method.email,
        "pin": method.sealed_pin,
        "device_id": method.device_id,
    }


class SqlMethodRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, method: NewMethod, now: float) -> Method:
        self.conn.execute(insert(methods).values(**new_method_row(method, now)))
        otp = method.otp
        return Method(
            id=method.id,
            user_id=method.user_id,
            kind=method.kind,
            status=method.status,
            label=method.label,
            otp=otp,
            serial=method.serial,
            counter=method.counter,
            drift=method.drift,
            created_at=now,
            manufacturer=method.manufacturer,
            model=method.model,
            valid_from=method.valid_from,
            valid_until=method.valid_until,
            phone=method.phone,
            extension=method.extension,
            email=method.email,
            device_id=method.device_id,
        )

    def by_id(self, user_id: int, method_id: str) -> Method | None:
        row = self.conn.execute(
            select(*PUBLIC).where(methods.c.id == method_id, methods.c.user_id == user_id)
        ).first()
        return None if row is None else method_from_row(row)

    def for_user(self, user_id: int) -> Sequence[Method]:
        rows = self.conn.execute(
            select(*PUBLIC).where(methods.c.user_id == user_id).order_by(methods.c.created_at)
        )
        return [method_from_row(r) for r in rows]

    def sealed_seed(self, method_id: str) -> bytes | None:
        seed: bytes | None = self.conn.execute(
            select(methods.c.seed).where(methods.c.id == method_id)
        ).scalar_one_or_none()
        return seed

    def sealed_pin(self, method_id: str) -> bytes | None:
        pin: bytes | None = self.conn.execute(
            select(methods.c.pin).where(methods.c.id == method_id)
        ).scalar_one_or_none()
        return pin

    def activate(self, method_id: str, now: float) -> bool:
        result = self.conn.execute(
            update(methods)
            .where(methods.c.id == method_id, methods.c.status == MethodStatus.PENDING.value)
            .values(status=MethodStatus.ACTIVE.value, confirmed_at=now)
        )
        return result.rowcount == 1

    def delete(self, method_id: str) -> None:
        self.conn.execute(delete(methods).where(methods.c.id == method_id))

    def delete_for_device(self, device_id: str) -> None:
        self.conn.execute(delete(methods).where(methods.c.device_id == device_id))

    def serial_in_use(self, tenant_id: int, serial: str) -> bool:
        return bool(
            self.conn.execute(
                select(exists().where(methods.c.tenant_id == tenant_id, methods.c.serial == serial))
            ).scalar()
        )

    def claim_step(self, method_id: str, step: int, now: float) -> bool:
        params = {"b_id": method_id, "b_step": step, "b_now": now}
        return _CLAIM_STEP.rowcount(self.conn, params) == 1

    def claim_counter(self, method_id: str, matched: int, now: float) -> bool:
        params = {"b_id": method_id, "b_matched": matched, "b_next": matched + 1, "b_now": now}
        return _CLAIM_COUNTER.rowcount(self.conn, params) == 1

    def resync(
        self, method_id: str, *, counter: int | None, drift: int | None, step: int | None
    ) -> None:
        values: dict[str, int] = {}
        if counter is not None:
            values["counter"] = counter
        if drift is not None:
            values["drift"] = drift
        if step is not None:
            values["last_step"] = step
        self.conn.execute(update(methods).where(methods.c.id == method_id).values(**values))

    def purge_pending(self, before: float) -> int:
        result = self.conn.execute(
            delete(methods).where(
                and_(methods.c.status == MethodStatus.PENDING.value, methods.c.created_at < before)
            )
        )
        return result.rowcount
