"""The ``Factor`` Protocol every method kind implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from twostep.domain.entities import Method, MethodKind
from twostep.domain.settings import TenantSettings


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """Which one-time value a code matched; exactly one of the two is set."""

    step: int | None = None  # TOTP time step, claimed with MethodRepo.claim_step
    counter: int | None = None  # HOTP counter, claimed with MethodRepo.claim_counter


class Factor(Protocol):
    kind: MethodKind


@runtime_checkable
class CodeFactor(Protocol):
    """A method decided at once from a code the user typed."""

    kind: MethodKind

    def match(
        self, method: Method, seed: bytes, code: str, now: float, settings: TenantSettings
    ) -> CodeMatch | None: ...
