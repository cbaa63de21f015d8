"""Remembered browsers and custom voice prompts (domain/ports/remembered.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from twostep.adapters.storage.tables import remembered_devices, voice_prompts
from twostep.domain.remembered import RememberedDevice
from twostep.domain.voice_prompts import VoicePrompt

_d = remembered_devices.c
_p = voice_prompts.c


def _device(row: Any) -> RememberedDevice:
    return RememberedDevice(
        id=row.id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        page=row.page,
        created_at=row.created_at,
        expires_at=row.expires_at,
        label=row.label,
        last_used_at=row.last_used_at,
    )


class SqlRememberedDeviceRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, device: RememberedDevice, token_hash: bytes) -> None:
        self.conn.execute(
            remembered_devices.insert().values(
                id=device.id,
                tenant_id=device.tenant_id,
                user_id=device.user_id,
                page=device.page,
                token_hash=token_hash,
                label=device.label,
                created_at=device.created_at,
                expires_at=device.expires_at,
            )
        )

    def find(self, device_id: str) -> tuple[RememberedDevice, bytes] | None:
        row = self.conn.execute(select(remembered_devices).where(_d.id == device_id)).first()
        return None if row is None else (_device(row), bytes(row.token_hash))

    def used(self, device_id: str, now: float) -> None:
        self.conn.execute(
            update(remembered_devices).where(_d.id == device_id).values(last_used_at=now)
        )

    def for_user(self, user_id: int, now: float) -> Sequence[RememberedDevice]:
        rows = self.conn.execute(
            select(remembered_devices)
            .where(_d.user_id == user_id, _d.expires_at > now)
            .order_by(_d.created_at.desc(), _d.id)
            .limit(200)
        )
        return [_device(row) for row in rows]

    def delete(self, user_id: int, device_id: str) -> bool:
        gone = self.conn.execute(
            delete(remembered_devices).where(_d.user_id == user_id, _d.id == device_id)
        )
        return gone.rowcount > 0

    def delete_for_user(self, user_id: int) -> int:
        gone = self.conn.execute(delete(remembered_devices).where(_d.user_id == user_id))
        return int(gone.rowcount)


_PROMPT_COLUMNS = (
    _p.tenant_id,
    _p.language,
    _p.prompt,
    _p.id,
    _p.media_type,
    _p.seconds,
    func.length(_p.audio).label("size"),
    _p.created_at,
)


def _prompt(row: Any) -> VoicePrompt:
    return VoicePrompt(
        tenant_id=row.tenant_id,
        language=row.language,
        prompt=row.prompt,
        id=row.id,
        media_type=row.media_type,
        seconds=row.seconds,
        size=int(row.size),
        created_at=row.created_at,
    )


class SqlVoicePromptRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def put(self, prompt: VoicePrompt, audio: bytes) -> None:
        self.delete(prompt.tenant_id, prompt.language, prompt.prompt)
        self.conn.execute(
            voice_prompts.insert().values(
                tenant_id=prompt.tenant_id,
                language=prompt.language,
                prompt=prompt.prompt,
                id=prompt.id,
                media_type=prompt.media_type,
                audio=audio,
                seconds=prompt.seconds,
                created_at=prompt.created_at,
            )
        )

    def for_tenant(self, tenant_id: int) -> Sequence[VoicePrompt]:
        rows = self.conn.execute(
            select(*_PROMPT_COLUMNS)
            .where(_p.tenant_id == tenant_id)
            .order_by(_p.language, _p.prompt)
        )
        return [_prompt(row) for row in rows]

    def find(self, tenant_id: int, language: str, prompt: str) -> VoicePrompt | None:
        row = self.conn.execute(
            select(*_PROMPT_COLUMNS).where(
                _p.tenant_id == tenant_id, _p.language == language, _p.prompt == prompt
            )
        ).first()
        return None if row is None else _prompt(row)

    def audio(self, prompt_id: str) -> tuple[VoicePrompt, bytes] | None:
        row = self.conn.execute(
            select(*_PROMPT_COLUMNS, _p.audio).where(_p.id == prompt_id)
        ).first()
        return None if row is None else (_prompt(row), bytes(row.audio))

    def delete(self, tenant_id: int, language: str, prompt: str) -> bool:
        gone = self.conn.execute(
            delete(voice_prompts).where(
                _p.tenant_id == tenant_id, _p.language == language, _p.prompt == prompt
            )
        )
        return gone.rowcount > 0
