"""Users: the search (a name prefix, in pages of ``PAGE``, over the tenant's name index),
a user's page (methods, devices, app passwords, state) and its actions, each behind its
own permission: a help desk finds, unlocks, asks for re-registration, grants or cancels a
one-time bypass, forgets remembered browsers and deletes app passwords; changing a user's
state or assigning a token needs a tenant admin."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from twostep.domain.entities import MfaState, User
from twostep.domain.errors import InvalidInput, UserNotFound
from twostep.domain.names import name_key
from twostep.domain.permissions import Permission
from twostep.interfaces.web import texts
from twostep.interfaces.web.pages import field
from twostep.interfaces.web.portal import words
from twostep.interfaces.web.portal.base import PAGE, Portal, Seat, tenant_path
from twostep.services.admin import UserChanges


@dataclass(frozen=True, slots=True)
class Action:
    permission: Permission
    run: Callable[[Portal, Seat, str, str, dict[str, str]], object]
    notice: str


def _mfa(portal: Portal, seat: Seat, tenant: str, user: str, form: dict[str, str]) -> object:
    try:
        state = MfaState(form["mfa"])
    except ValueError:
        raise InvalidInput("mfa must be enabled, enforced or disabled", field="mfa") from None
    return portal.app.admin.update_user(seat.actor, tenant, user, UserChanges(mfa=state))


def _bypass(portal: Portal, seat: Seat, tenant: str, user: str, form: dict[str, str]) -> object:
    text = form["seconds"].strip()
    if not text.isdecimal() or len(text) > 6:
        raise InvalidInput("seconds must be a whole number from 1 to 1800", field="seconds")
    return portal.app.bypasses.grant(seat.actor, tenant, user, int(text))


ACTIONS: dict[str, Action] = {
    "unlock": Action(
        Permission.USERS_UNLOCK,
        lambda p, s, t, u, _f: p.app.admin.unlock_user(s.actor, t, u),
        "unlocked",
    ),
    "disable": Action(
        Permission.USERS_WRITE,
        lambda p, s, t, u, _f: p.app.accounts.disable(s.actor, t, u),
        "disabled",
    ),
    "enable": Action(
        Permission.USERS_WRITE,
        lambda p, s, t, u, _f: p.app.accounts.enable(s.actor, t, u),
        "enabled",
    ),
    "mfa": Action(Permission.USERS_WRITE, _mfa, "mfa"),
    "reregister": Action(
        Permission.USERS_REREGISTER,
        lambda p, s, t, u, _f: p.app.accounts.require_registration(s.actor, t, u),
        "reregister",
    ),
    "bypass": Action(Permission.USERS_BYPASS, _bypass, "bypass"),
    "cancel-bypass": Action(
        Permission.USERS_BYPASS,
        lambda p, s, t, u, _f: p.app.bypasses.cancel(s.actor, t, u),
        "bypass_cancelled",
    ),
    "forget-devices": Action(  # remembered browsers: like signing the user out of the pages
        Permission.SESSIONS_REVOKE,
        lambda p, s, t, u, _f: p.app.remembered.revoke(s.actor, t, u),
        "forgotten",
    ),
    "delete-app-password": Action(
        Permission.APP_PASSWORDS_DELETE,
        lambda p, s, t, u, f: p.app.app_passwords.delete(s.actor, t, u, f["id"]),
        "app_password",
    ),
    "assign-token": Action(
        Permission.METHODS_WRITE,
        lambda p, s, t, u, f: p.app.tokens.assign(s.actor, t, f["serial"].strip(), u),
        "assigned",
    ),
}


class UserPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def routes(self, router: APIRouter) -> None:
        base = "/admin/tenants/{tenant}/users"
        router.add_api_route(base, self.search, methods=["GET"])
        router.add_api_route(base + "/{user}", self.user, methods=["GET"])
        router.add_api_route(base + "/{user}/{action}", self.act, methods=["POST"])

    def search(
        self, request: Request, tenant: str, q: str = "", after: str | None = None
    ) -> Response:
        seat = self.portal.seat(request, Permission.USERS_READ)
        if isinstance(seat, Response):
            return seat
        prefix, cursor = field(q).strip()[:256], field(after)[:256] or None
        found = self.portal.call(seat, lambda: self._find(seat, tenant, prefix, cursor))
        if isinstance(found, Response):
            return found
        users, more = found
        now = self.portal.app.deps.clock.now()
        return self.portal.render(
            seat,
            "admin/users.html",
            tenant,
            title=texts.N_("Users"),
            q=prefix,
            users=users,
            locked={u.id for u in users if u.is_locked(now)},
            next_after=users[-1].name if more and users else None,
            path=lambda *parts: tenant_path(tenant, *parts),
        )

    def _find(
        self, seat: Seat, tenant: str, prefix: str, after: str | None
    ) -> tuple[Sequence[User], bool]:
        """Users whose name starts with ``prefix`` (in any case), in the order of the
        name index, ``PAGE`` at a time: one exact lookup and one range read, both on the
        index ``(tenant_id, name_key)``."""
        admin = self.portal.app.admin
        key = name_key(prefix)
        found: list[User] = []
        if prefix and after is None:
            with contextlib.suppress(UserNotFound):  # the prefix is a whole name
                found.append(admin.get_user(seat.actor, tenant, prefix))
        start = after if after is not None else (prefix or None)
        rows = admin.list_users(seat.actor, tenant, start, PAGE + 1)
        for user in rows:
            if not name_key(user.name).startswith(key):
                return found[:PAGE], False  # past the prefix: the index's order ends it
            found.append(user)
        return found[:PAGE], len(found) > PAGE or len(rows) > PAGE

    def user(self, request: Request, tenant: str, user: str) -> Response:
        seat = self.portal.seat(request, Permission.USERS_READ)
        if isinstance(seat, Response):
            return seat
        shown = self.portal.call(seat, lambda: self._load(seat, tenant, user))
        if isinstance(shown, Response):
            return shown
        found = shown["user"]
        return self.portal.render(
            seat,
            "admin/user.html",
            tenant,
            title=texts.N_("User"),
            kinds={k.value: v for k, v in texts.KINDS.items()},
            mfa_states=words.MFA_STATES,
            locked=found.is_locked(self.portal.app.deps.clock.now()),
            bypass=found.bypass_pending(self.portal.app.deps.clock.now()),
            path=lambda *parts: tenant_path(tenant, "users", found.name, *parts),
            **shown,
        )

    def _load(self, seat: Seat, tenant: str, user: str) -> dict[str, Any]:
        app = self.portal.app
        found = app.admin.get_user(seat.actor, tenant, user)
        free = (
            app.tokens.list(seat.actor, tenant, assigned=False, limit=PAGE)
            if seat.can(Permission.METHODS_WRITE)
            else ()
        )
        return {
            "user": found,
            "methods": app.enroll.list(seat.actor, tenant, found.name),
            "devices": app.devices.list(seat.actor, tenant, found.name),
            "app_passwords": app.app_passwords.list(seat.actor, tenant, found.name),
            "remembered": len(app.remembered.list_for(seat.actor, tenant, found.name)),
            "free_tokens": [t.serial for t in free if t.serial],
        }

    def act(
        self,
        request: Request,
        tenant: str,
        user: str,
        action: str,
        csrf: Annotated[str, Form()] = "",
        mfa: Annotated[str, Form()] = "",
        id: Annotated[str, Form()] = "",
        serial: Annotated[str, Form()] = "",
        seconds: Annotated[str, Form()] = "",
    ) -> Response:
        chosen = ACTIONS.get(action)
        permission = chosen.permission if chosen else Permission.USERS_WRITE
        seat = self.portal.seat(request, permission, csrf)
        if isinstance(seat, Response):
            return seat
        if chosen is None:
            return self.portal.failed(seat, InvalidInput(f"no action {action[:64]!r}"))
        form = {"mfa": field(mfa), "id": field(id), "serial": field(serial)}
        form["seconds"] = field(seconds)
        done = self.portal.call(seat, lambda: chosen.run(self.portal, seat, tenant, user, form))
        if isinstance(done, Response):
            return done
        return self.portal.back(seat, tenant_path(tenant, "users", user), chosen.notice)
