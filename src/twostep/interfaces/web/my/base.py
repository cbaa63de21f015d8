"""What every page of the self-service portal (``/my``) shares: who the visitor is, and the
two kinds of session that reach it.

* A signed-in session (password and second factor, or the password alone for a user
  without two-step verification): the user manages their security info.
* A registration session: a ``second_factor`` session (ten minutes, like a sign-in in
  progress) marked ``{"set": "my", "my": "register"}``, opened after the password of a user
  who must register (when the tenant's ``password_registration`` allows) or by an
  enrollment link.
  It may only register; the first method it confirms turns it into a signed-in session.

A signed-in user who must register (an admin asked them again meanwhile) is sent to the
registration as well; the services refuse the rest (``registration_first``).

Both are the portal's own (``twostep_my``, ``Path=/my``; each session records its page set,
page_sets.py): a management portal session opens nothing here, and signing in or out here
leaves the management portal's alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from twostep.domain.pages import PageSession, Stage
from twostep.interfaces.web import page_sets, security
from twostep.interfaces.web.pages import Pages, Visit
from twostep.services.self_service import Me

PREFIX = "/my"
SIGNIN = "/my/signin"
SIGNOUT = "/my/signout"
_REGISTER = page_sets.marked(page_sets.MY, my="register")
_SIGNED_IN = page_sets.marked(page_sets.MY)


@dataclass(frozen=True, slots=True)
class Here:
    """The visitor: the user, and whether their session may only register."""

    me: Me
    registering: bool


def registering(session: PageSession) -> bool:
    if session.stage is not Stage.SECOND_FACTOR:
        return False
    try:
        data = json.loads(session.data or "")
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("my") == "register"


class MyBase:
    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.app = pages.app

    def here(self, visit: Visit) -> Here | None:
        session = visit.session
        if session is None:
            return None
        if session.stage is not Stage.SIGNED_IN and not registering(session):
            return None
        me = Me(session.tenant_id, session.tenant, session.user_id, session.user, visit.client_ip)
        return Here(me, session.stage is not Stage.SIGNED_IN)

    def render(self, visit: Visit, template: str, status: int = 200, **values: Any) -> Response:
        return self.pages.render(
            visit, template, status=status, signout_path=SIGNOUT, prefix=PREFIX, **values
        )

    def to_signin(self, visit: Visit) -> Response:
        return self.pages.redirect(visit, SIGNIN)

    def open(self, visit: Visit, me: Me, *, register: bool, to: str = PREFIX) -> Response:
        """A new session for ``me`` (the old one ends: no token is ever promoted)."""
        sessions = self.app.page_sessions
        sessions.end(visit.token)
        if register:
            stage, data = Stage.SECOND_FACTOR, _REGISTER
        else:
            stage, data = Stage.SIGNED_IN, _SIGNED_IN
        token = sessions.open(me.tenant_id, me.user_id, stage, client_ip=visit.client_ip, data=data)
        response = self.pages.redirect(visit, to)
        security.set_session(response, page_sets.MY, token)
        return response

    def registered(self, visit: Visit, here: Here, done: str) -> Response:
        """A method was confirmed: a registration session becomes a signed-in one, unless
        the user must still register (a kind the registration policy asks, not this one)."""
        to = f"{PREFIX}?done={done}"
        if here.registering and self.app.self_service.info(here.me).reason is None:
            return self.open(visit, here.me, register=False, to=to)
        return self.pages.redirect(visit, to)
