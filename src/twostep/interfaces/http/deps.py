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


def authenticated_integration(
    app: App, credentials: HTTPAuthorizationCredentials | None
) -> Integration:
    """Blocking (it reads the database): call it from a worker thread."""
    found = app.admin.authenticate_integration(credentials.credentials) if credentials else None
    if found is None:
        raise Unauthenticated("an active integration key is required (Authorization: Bearer ...)")
    return found


def authenticated_admin(app: App, credentials: HTTPAuthorizationCredentials | None) -> AdminKey:
    found = app.admin.authenticate_admin(credentials.credentials) if credentials else None
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
