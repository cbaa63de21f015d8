"""Request dependencies: the wired ``App`` and the caller's credentials."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from twostep.bootstrap import App
from twostep.domain.entities import AdminKey, Integration
from twostep.domain.errors import Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="An integration key or an admin API key")


def get_app(request: Request) -> App:
    app: App = request.app.state.twostep
    return app


AppDep = Annotated[App, Depends(get_app)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def integration(app: AppDep, credentials: Credentials) -> Integration:
    found = app.admin.authenticate_integration(credentials.credentials) if credentials else None
    if found is None:
        raise Unauthenticated("an active integration key is required (Authorization: Bearer ...)")
    return found


def admin(app: AppDep, credentials: Credentials) -> AdminKey:
    found = app.admin.authenticate_admin(credentials.credentials) if credentials else None
    if found is None:
        raise Unauthenticated("an active admin API key is required (Authorization: Bearer ...)")
    return found


IntegrationDep = Annotated[Integration, Depends(integration)]
AdminDep = Annotated[AdminKey, Depends(admin)]
