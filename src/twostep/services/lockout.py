"""Counting failures toward the lockout: one rule for codes, challenges and passwords."""

from __future__ import annotations

import logging
from typing import Protocol

from twostep.domain.entities import User
from twostep.domain.ports.users import Lockout
from twostep.domain.settings import TenantSettings

log = logging.getLogger("twostep.lockout")

FOREVER = 2.0**53  # a lock without an end: lockout_seconds 0, or a fraud report


class LockoutWork(Protocol):
    """What counting a failure needs of a unit of work."""

    @property
    def users(self) -> Lockout: ...


def count_failure(tx: LockoutWork, user: User, now: float, settings: TenantSettings) -> bool:
    """Count one failure in ``tx`` (one atomic update, so failures on every node count);
    True when this one locked the user."""
    rules = settings.lockout
    lock_until = now + rules.lockout_seconds if rules.lockout_seconds else FOREVER
    locked = tx.users.record_failure(user.id, now, rules.max_failures, lock_until)
    if locked:
        log.warning(
            "user %r of tenant id %d locked after %d consecutive failures",
            user.name,
            user.tenant_id,
            settings.lockout.max_failures,
        )
    return locked
