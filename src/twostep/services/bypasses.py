"""One-time bypass (MFA Server's): an admin or the help desk lets a user's next sign-in
through without a second factor, within a window of at most 30 minutes. The sign-in flow
uses it (services/policy.py's skip step, claimed in one conditional update with its audit
event, services/signin.py); here it is granted and cancelled, each with its admin event.

A grant replaces any open one (the window starts again); a user disabled, locked or asked
to register again still gets the bypass recorded, but the sign-in refuses them first.
"""

from __future__ import annotations

from dataclasses import replace

from twostep.domain.entities import AdminKey, User
from twostep.domain.errors import InvalidInput
from twostep.services import admin_log
from twostep.services.admin import tenant_for, user_for
from twostep.services.context import Deps

DEFAULT_SECONDS = 300  # MFA Server's default
MAX_SECONDS = 1800


def check_seconds(seconds: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise InvalidInput("seconds must be a whole number", field="seconds")
    if not 1 <= seconds <= MAX_SECONDS:
        raise InvalidInput(f"seconds must be from 1 to {MAX_SECONDS}", field="seconds")
    return seconds


class BypassService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def grant(
        self, actor: AdminKey, tenant_name: str, name: str, seconds: int = DEFAULT_SECONDS
    ) -> User:
        """Open the user's bypass for ``seconds`` from now; the user with it."""
        check_seconds(seconds)
        now = self.deps.clock.now()
        until = now + seconds
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, name)
            tx.users.grant_bypass(user.id, until)
            before = user.bypass_until if user.bypass_pending(now) else None
            changed = admin_log.changes(
                {"bypass_until": before}, {"bypass_until": until, "seconds": seconds}
            )
            admin_log.record(tx, self.deps, actor, tenant, "user.bypass", user.name, changed)
        return replace(user, bypass_until=until)

    def cancel(self, actor: AdminKey, tenant_name: str, name: str) -> bool:
        """Close the user's open bypass; False (and nothing recorded) when none was open."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, name)
            if not tx.users.cancel_bypass(user.id, now):
                return False
            changed = admin_log.changes({"bypass_until": user.bypass_until}, {"bypass_until": None})
            admin_log.record(tx, self.deps, actor, tenant, "user.bypass_cancel", user.name, changed)
        return True
