"""Remembered browsers (domain/remembered.py) and custom voice prompts
(domain/voice_prompts.py): the pages' and the calls' stores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.remembered import RememberedDevice
from twostep.domain.voice_prompts import VoicePrompt


class RememberedDeviceRepo(Protocol):
    def add(self, device: RememberedDevice, token_hash: bytes) -> None: ...

    def find(self, device_id: str) -> tuple[RememberedDevice, bytes] | None:
        """The device and its secret's keyed digest."""
        ...

    def used(self, device_id: str, now: float) -> None: ...

    def for_user(self, user_id: int, now: float) -> Sequence[RememberedDevice]:
        """The user's devices that have not expired, newest first."""
        ...

    def delete(self, user_id: int, device_id: str) -> bool: ...

    def delete_for_user(self, user_id: int) -> int:
        """Revoke every remembered device of the user; how many there were."""
        ...


class VoicePromptRepo(Protocol):
    def put(self, prompt: VoicePrompt, audio: bytes) -> None:
        """Store the recording, replacing the tenant's one for that language and prompt."""
        ...

    def for_tenant(self, tenant_id: int) -> Sequence[VoicePrompt]: ...

    def find(self, tenant_id: int, language: str, prompt: str) -> VoicePrompt | None: ...

    def audio(self, prompt_id: str) -> tuple[VoicePrompt, bytes] | None: ...

    def delete(self, tenant_id: int, language: str, prompt: str) -> bool: ...
