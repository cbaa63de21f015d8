"""Hosted sign-in storage: an integration's signing secret and return URLs, and the
one-time use of requests and results (docs/hosted-signin.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class TokenKind(StrEnum):
    REQUEST = "request"  # a request's jti, recorded when it starts a sign-in
    RESULT = "result"  # a result's jti, recorded when it is issued, redeemed once


@dataclass(frozen=True, slots=True)
class SigninSettings:
    integration_id: int
    return_urls: tuple[str, ...] = ()
    sealed_secret: bytes | None = None  # sealed, bound to signin_context(integration id)
    secret_issued_at: float | None = None


class SigninRepo(Protocol):
    def settings(self, integration_id: int) -> SigninSettings | None: ...

    def set_return_urls(self, integration_id: int, urls: list[str], now: float) -> None:
        """Create the integration's row if it has none."""
        ...

    def set_secret(self, integration_id: int, sealed: bytes, now: float) -> None:
        """Create the integration's row if it has none."""
        ...

    def record(self, integration_id: int, kind: TokenKind, jti: str, expires_at: float) -> bool:
        """Record a jti once: False if this integration already recorded it (a replay)."""
        ...

    def redeem(self, integration_id: int, jti: str, now: float) -> bool | None:
        """Redeem a result in one conditional update: True for the one redeem that wins,
        False if it was redeemed already, None if there is no such unexpired result."""
        ...

    def sweep(self, before: float) -> int:
        """Delete the rows expired by ``before`` (``expires_at`` at or before it); how many."""
        ...
