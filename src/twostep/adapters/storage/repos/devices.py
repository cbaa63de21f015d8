"""Devices (activated authenticator apps) and their single-use activation codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from twostep.adapters.storage.tables import activations, devices
from twostep.domain.entities import Activation, Device, DeviceState
from twostep.domain.ports.devices import NewDevice

d = devices.c
a = activations.c
_PUBLIC = [col for col in devices.c if col.name != "push_channel"]


def _device(row: Any) -> Device:
    return Device(
        id=row.id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        name=row.name,
        key_type=row.key_type,
        public_key=row.public_key,
        push_kind=row.push_kind,
        state=DeviceState(row.state),
        created_at=row.created_at,
        platform=row.platform,
        last_seen_at=row.last_seen_at,
        revoked_at=row.revoked_at,
        revoked_reason=row.revoked_reason,
    )


class SqlDeviceRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, device: NewDevice, now: float) -> Device:
        self.conn.execute(
            insert(devices).values(
                id=device.id,
                tenant_id=device.tenant_id,
                user_id=device.user_id,
                name=device.name,
                platform=device.platform,
                key_type=device.key_type,
                public_key=device.public_key,
                push_kind=device.push_kind,
                push_channel=device.sealed_channel,
                state=DeviceState.ACTIVE.value,
                created_at=now,
            )
        )
        found = self.by_id(device.id)
        assert found is not None
        return found

    def by_id(self, device_id: str) -> Device | None:
        row = self.conn.execute(select(*_PUBLIC).where(d.id == device_id)).first()
        return None if row is None else _device(row)

    def for_user(self, user_id: int) -> Sequence[Device]:
        rows = self.conn.execute(
            select(*_PUBLIC).where(d.user_id == user_id).order_by(d.created_at)
        )
        return [_device(row) for row in rows]

    def sealed_channel(self, device_id: str) -> bytes | None:
        blob: bytes | None = self.conn.execute(
            select(d.push_channel).where(d.id == device_id)
        ).scalar_one_or_none()
        return blob

    def rename(self, device_id: str, name: str) -> None:
        self.conn.execute(update(devices).where(d.id == device_id).values(name=name))

    def revoke(self, device_id: str, now: float, reason: str) -> bool:
        result = self.conn.execute(
            update(devices)
            .where(d.id == device_id, d.state == DeviceState.ACTIVE.value)
            .values(state=DeviceState.REVOKED.value, revoked_at=now, revoked_reason=reason)
        )
        return result.rowcount == 1

    def seen(self, device_id: str, now: float) -> None:
        self.conn.execute(update(devices).where(d.id == device_id).values(last_seen_at=now))

    def set_push(self, device_id: str, kind: str, sealed_channel: bytes | None) -> None:
        self.conn.execute(
            update(devices)
            .where(d.id == device_id)
            .values(push_kind=kind, push_channel=sealed_channel)
        )


class SqlActivationRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, activation: Activation, code_hash: bytes) -> None:
        self.conn.execute(
            insert(activations).values(
                id=activation.id,
                tenant_id=activation.tenant_id,
                user_id=activation.user_id,
                code_hash=code_hash,
                created_at=activation.created_at,
                expires_at=activation.expires_at,
                replaces=activation.replaces,
            )
        )

    def cancel_for_user(self, user_id: int, now: float) -> int:
        result = self.conn.execute(
            update(activations)
            .where(a.user_id == user_id, a.used_at.is_(None), a.expires_at > now)
            .values(expires_at=now)
        )
        return int(result.rowcount)

    def claim(self, code_hash: bytes, now: float) -> Activation | None:
        row = self.conn.execute(
            update(activations)
            .where(a.code_hash == code_hash, a.used_at.is_(None), a.expires_at > now)
            .values(used_at=now)
            .returning(*activations.c)
        ).first()
        if row is None:
            return None
        return Activation(
            id=row.id,
            tenant_id=row.tenant_id,
            user_id=row.user_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
            replaces=row.replaces,
        )
