"""Health for load balancers and supervisors: ``/healthz`` (the process answers),
``/readyz`` (it can serve: database, secret key, schema, not draining)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from twostep.adapters.storage.readiness import (
    DatabaseUnavailable,
    database_revision,
    schema_head,
)
from twostep.bootstrap import App
from twostep.interfaces.http.deps import AppDep
from twostep.interfaces.http.draining import Draining
from twostep.interfaces.http.openapi import Error

router = APIRouter(tags=["health"])

_PROBE = b"readyz"
PROBES = frozenset({"/healthz", "/readyz", "/health"})


class QuietProbes(logging.Filter):
    """Keeps a load balancer's probes every few seconds out of the access log (uvicorn's
    ``uvicorn.access`` lines): a probe answered 200 is not logged, a failing one is."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:  # client, method, path, version, status
            path, status = args[2], args[4]
            return not (path in PROBES and status == 200)
        return True


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers (nothing else is checked: no database)."""
    return {"status": "ok"}


@router.get("/health", deprecated=True)
async def health() -> dict[str, str]:
    """The former name of ``/healthz``, kept for existing probes."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        503: {
            "model": Error,
            "description": "Not ready (`not_ready`): `failing` names the checks that failed, "
            "`checks` says what each found",
        }
    },
)
async def readyz(request: Request, app: AppDep) -> JSONResponse:
    """Ready to serve: a database round trip, the secret key loaded and working, the schema
    at the head revision, and not draining (stopping). 503 names the failing checks."""
    draining: Draining = request.app.state.draining
    if draining.started:
        checks = {"draining": "stopping: send no more requests here"}
    else:
        checks = await run_in_threadpool(_checks, app)
    failing = sorted(name for name, result in checks.items() if result != "ok")
    if not failing:
        return JSONResponse({"status": "ready", "checks": checks})
    body: dict[str, Any] = {
        "status": "not_ready",
        "failing": failing,
        "checks": checks,
        "error": {"code": "not_ready", "message": "not ready: " + ", ".join(failing)},
    }
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


def _checks(app: App) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        revision = database_revision(app.storage)
        checks["database"] = "ok"
        head = schema_head()
        checks["schema"] = "ok" if revision == head else f"at {revision or 'none'}, head is {head}"
    except DatabaseUnavailable as exc:
        checks["database"] = f"no answer ({exc})"
        checks["schema"] = "unknown: the database did not answer"
    checks["secret_key"] = _secret_key(app)
    return checks


def _secret_key(app: App) -> str:
    box = app.deps.secrets
    try:
        return "ok" if box.open(box.seal(_PROBE, "readyz"), "readyz") == _PROBE else "broken"
    except Exception as exc:  # a key that cannot seal or open: say which kind, not its text
        return f"unusable ({type(exc).__name__})"
