"""Request dependencies: the wired ``App`` and the caller's credentials."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from twostep.bootstrap import App
from twostep.domain.entities import AdminKey, Integration
from twostep.domain.errors import InvalidInput, TwostepError, Unauthenticated
from twostep.services import admin_log

log = logging.getLogger("twostep.http")

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_bearer = HTTPBearer(auto_error=False, description="An integration key or an admin API key")


async def get_app(request: Request) -> App:
    app: App = request.app.state.twostep
    return app


AppDep = Annotated[App, Depends(get_app)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def bearer(request: Request) -> HTTPAuthorizationCredentials | None:
    """The ``Authorization: Bearer`` credentials, for code outside a route's dependencies."""
    return await _bearer(request)


def bearer_key(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """``key_of(await bearer(request))`` read straight from an ASGI scope's headers, without
    a ``Request``, ``Headers`` and a pydantic model per request (the validate route's hot
    path): the first ``Authorization`` header, split as FastAPI's ``HTTPBearer`` splits it.
    tests/unit/interfaces/http/test_deps.py holds the two to the same answers."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, param = value.decode("latin-1").partition(" ")
            key = param.strip()
            if not scheme or not key or scheme.lower() != "bearer":
                return None
            return key if key.isprintable() else None
    return None


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


def admin(app: AppDep, credentials: Credentials, request: Request) -> Iterator[AdminKey]:
    """The calling admin, with where the call came from (the client's address). A change
    it asks for that is refused (a Twostep error, or a request the schema refuses) is one
    admin event under the route's name, its action; reads are not recorded."""
    client = request.client.host if request.client is not None else None
    actor = replace(authenticated_admin(app, credentials), source=client, interface="http")
    if request.method not in MUTATING:
        yield actor
        return
    try:
        yield actor
    except TwostepError as exc:
        _refused(app, request, actor, exc.code)
        raise
    except RequestValidationError:
        _refused(app, request, actor, InvalidInput.code)
        raise


def _refused(app: App, request: Request, actor: AdminKey, code: str) -> None:
    route = request.scope.get("route")
    action = route.name if isinstance(route, APIRoute) else request.url.path
    params = dict(request.path_params)
    tenant = params.pop("tenant", None)
    # The path names the target ("alice", "alice/<method id>", a serial): never a secret.
    target = "/".join(str(value) for value in params.values()) or None
    try:
        admin_log.refused(app.deps, actor, tenant, action, target, code)
    except Exception:  # the refusal itself must still reach the client
        log.exception("recording a refused admin change failed")


IntegrationDep = Annotated[Integration, Depends(integration)]
AdminDep = Annotated[AdminKey, Depends(admin)]
