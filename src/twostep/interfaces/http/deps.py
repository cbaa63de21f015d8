"""Request dependencies: the wired ``App`` and the caller's credentials."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from twostep.bootstrap import App
from twostep.domain.entities import AdminKey, Integration
from twostep.domain.errors import Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="An integration key or an admin API key")


async def get_app(request: Request) -> App:
    app: App = request.app.state.twostep
    return app


AppDep = Annotated[App, Depends(get_app)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def bearer(request: Request) -> HTTPAuthorizationCredentials | None:
    """The ``Authorization: Bearer`` credentials, for code outside a route's dependencies."""
    return await _bearer(request)


def key_of(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The key sent, or None: a key is printable ASCII, so one with a control character is
    no key at all (and never reaches a database lookup)."""
    if credentials is None or not credentials.credentials.isprintable():
        return None
    return credentials.credentials


def authenticated_integration(
    app: App, credentials: HTTPAuthorizationCredentials | None
) -> Integration:
    """Blocking (it reads the database): call it from a worker thread."""
    key = key_of(credentials)
    found = app.admin.authenticate_integration(key) if key else None
    if found is None:
        raise Unauthenticated("an active integration key is required (Authorization: Bearer ...)")
    return found


def authenticated_admin(app: App, credentials: HTTPAuthorizationCredentials | None) -> AdminKey:
    key = key_of(credentials)
    found = app.admin.authenticate_admin(key) if key else None
    if found is None:
        raise Unauthenticated("an active admin API key is required (Authorization: Bearer ...)")
    return found


# Sync dependencies each cost a hop to the thread pool; these are sync on purpose (they
# read the database), while ``get_app`` above is async because it only looks up state.
def integration(app: AppDep, credentials: Credentials) -> Integration:
    return authenticated_integration(app, credentials)


def admin(app: AppDep, credentials: Credentials) -> AdminKey:
    return authenticated_admin(app, credentials)


IntegrationDep = Annotated[Integration, Depends(integration)]
AdminDep = Annotated[AdminKey, Depends(admin)]
