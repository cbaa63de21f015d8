"""The self-service portal (``/my``): a user signs in (their primary password, then a
second factor) and manages their own security info: authenticator apps (QR code, confirmed
with a code), the mobile authenticator (its activation's QR code), phones (confirmed by the
code sent to them), the default method, app passwords, recent sign-ins with "not me", and
their language. A user who must register goes to the registration after their password
(or with the enrollment link an admin sent). Every page calls the services the admin API
calls (services/self_service.py), as the user themselves.

``routes(router, pages)`` adds them: base.py (sessions), signin.py, methods.py, account.py,
browsers.py (remembered browsers);
hidden.py keeps enrollment links' tokens out of the access log.
"""

from __future__ import annotations

from fastapi import APIRouter

from twostep.interfaces.web.my import hidden
from twostep.interfaces.web.my.account import MyAccount
from twostep.interfaces.web.my.browsers import MyBrowsers
from twostep.interfaces.web.my.methods import MyMethods
from twostep.interfaces.web.my.signin import MySignIn
from twostep.interfaces.web.pages import Pages


def routes(router: APIRouter, pages: Pages) -> None:
    MySignIn(pages).routes(router)
    MyMethods(pages).routes(router)
    MyAccount(pages).routes(router)
    MyBrowsers(pages).routes(router)
    hidden.install()  # enrollment links' tokens never reach the access log
