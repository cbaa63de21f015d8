"""Page sessions, server-side. The cookie holds a random 256-bit token; the store keeps
only its SHA-256, so a copy of the database opens no session. A session ends when it is
revoked (sign-out, an admin, a revoked grant), unused for its idle time, or at its absolute
expiry (the tenant's ``page_idle_seconds`` and ``page_session_seconds`` when it opened).

Two stages: ``second_factor`` (the password was right; ten minutes at most) and
``signed_in``. Signing in opens a new session (a new token): a token seen before sign-in
never becomes a signed-in one (no session fixation).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace

from twostep.domain.entities import AdminKey, Role
from twostep.domain.errors import Forbidden
from twostep.domain.pages import PageSession, Stage
from twostep.domain.permissions import Permission, allows
from twostep.services import admin_log
from twostep.services.admin import tenant_for, user_for
from twostep.services.context import Deps

SECOND_FACTOR_SECONDS = 600  # from a right password to the second factor, at most
_SWEEP = 100  # expired sessions deleted per sign-in, at most


TOUCH_SECONDS = 15.0  # how stale a session's last-seen time may get before it is written


def session_id(token: str) -> str:
    """What the store keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class PageSessions:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def open(
        self,
        tenant_id: int,
        user_id: int,
        stage: Stage,
        *,
        role: Role | None = None,
        scope_tenant_id: int | None = None,
        client_ip: str | None = None,
        data: str | None = None,
    ) -> str:
        """A new session; returns its token (for the cookie, never stored)."""
        token = secrets.token_urlsafe(32)
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tx.tenants.by_id(tenant_id)
            assert tenant is not None
            pages = tenant.settings.pages
            if stage is Stage.SECOND_FACTOR:
                idle = lifetime = SECOND_FACTOR_SECONDS
            else:
                idle, lifetime = pages.page_idle_seconds, pages.page_session_seconds
            tx.page_sessions.add(
                PageSession(
                    id=session_id(token),
                    tenant_id=tenant_id,
                    user_id=user_id,
                    stage=stage,
                    created_at=now,
                    last_seen_at=now,
                    idle_seconds=idle,
                    expires_at=now + lifetime,
                    role=role,
                    scope_tenant_id=scope_tenant_id,
                    client_ip=client_ip,
                    data=data,
                )
            )
            tx.page_sessions.delete_expired(now, _SWEEP)
        return token

    def find(self, token: str | None) -> PageSession | None:
        """The live session of ``token``, marked as used now; None when there is none
        (unknown, revoked, idle too long, past its expiry)."""
        if not token or len(token) > 128:
            return None
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            found = tx.page_sessions.by_id(session_id(token))
        if found is None or not found.live(now):
            return None
        # Written at most every TOUCH_SECONDS: a page view is a read, not a write (the idle
        # limit is at least a minute, so it stays exact to within these seconds).
        if now - found.last_seen_at >= TOUCH_SECONDS:
            with self.deps.storage.transaction(write=True) as tx:
                tx.page_sessions.touch(found.id, now)
            return replace(found, last_seen_at=now)
        return found

    def save_data(self, session: PageSession, data: str | None) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tx.page_sessions.set_data(session.id, data)

    def end(self, token: str | None) -> None:
        """Sign-out: the session is revoked (nothing happens for an unknown token)."""
        if not token or len(token) > 128:
            return
        with self.deps.storage.transaction(write=True) as tx:
            tx.page_sessions.revoke(session_id(token), self.deps.clock.now())

    def revoke_user(self, actor: AdminKey, tenant_name: str, user_name: str) -> int:
        """An admin signs the user out of every page session; how many ended."""
        if not allows(actor.role, Permission.SESSIONS_REVOKE):
            raise Forbidden("this admin may not end sessions")
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            ended = tx.page_sessions.revoke_user(user.id, self.deps.clock.now())
            changed = {"sessions_ended": [None, ended]}
            admin_log.record(tx, self.deps, actor, tenant, "sessions.revoke", user.name, changed)
        return ended
