"""App passwords: long random passwords for legacy clients, stored as digests only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.entities import AppPassword


class AppPasswordRepo(Protocol):
    def add(self, app_password: AppPassword, digest: bytes) -> None: ...

    def of_user(self, user_id: int) -> Sequence[tuple[AppPassword, bytes]]:
        """The user's app passwords with their digests, the most recently used first."""
        ...

    def count(self, user_id: int) -> int: ...

    def delete(self, user_id: int, app_password_id: str) -> bool: ...

    def delete_all(self, user_id: int) -> int:
        """Remove every app password of the user; how many there were."""
        ...

    def used(self, app_password_id: str, now: float) -> None: ...
