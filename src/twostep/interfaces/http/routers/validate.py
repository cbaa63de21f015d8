"""``POST /v1/validate``: the integration asks "is this really the user?"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from twostep.bootstrap import App
from twostep.domain.results import Decision, Result
from twostep.interfaces.http.deps import (
    AppDep,
    Credentials,
    IntegrationDep,
)
from twostep.interfaces.http.schemas import CodeBody, ValidateAnswer, ValidateBody
from twostep.interfaces.http.waiter import Waiter
from twostep.services.authenticate import ValidateRequest

router = APIRouter(prefix="/v1/validate", tags=["validate"])


@router.post("", response_model=ValidateAnswer)
async def validate(
    body: ValidateBody, request: Request, app: AppDep, credentials: Credentials
) -> Response:
    # The hottest route: the key is checked in the validation's own read, and the answer
    # is written directly rather than through response_model.
    # Without a code, a challenge may be sent: a gateway's round trip must not hold the loop.
    if app.storage.inline and body.code is not None:  # see SqlStorage.inline
        decision = _validate(app, credentials, body)
    else:
        decision = await run_in_threadpool(_validate, app, credentials, body)
        if decision.number is not None or decision.transaction_id is not None:
            request.app.state.device_waiter.poke()  # a device polling this node: look now
    return _answer(decision)


def _validate(
    app: App, credentials: HTTPAuthorizationCredentials | None, body: ValidateBody
) -> Decision:
    return app.authenticator.validate(
        ValidateRequest(
            user=body.user,
            integration_key=credentials.credentials if credentials else None,
            tenant=body.tenant,
            code=body.code,
            method=body.method,
            client_ip=body.client_ip,
        )
    )


@router.post("/{transaction_id}", response_model=ValidateAnswer)
def submit_code(
    transaction_id: str, body: CodeBody, app: AppDep, integration: IntegrationDep
) -> Response:
    """The code the user typed for a text-message challenge."""
    return _answer(app.phone.submit(integration, transaction_id, body.code))


@router.post("/{transaction_id}/resend", response_model=ValidateAnswer)
def resend(transaction_id: str, app: AppDep, integration: IntegrationDep) -> Response:
    """Send a text-message challenge again, with a new code (the old one stops working)."""
    return _answer(app.phone.resend(integration, transaction_id))


@router.get("/{transaction_id}", response_model=ValidateAnswer)
async def wait_outcome(
    transaction_id: str,
    request: Request,
    app: AppDep,
    integration: IntegrationDep,
    wait: Annotated[int, Query(ge=0, le=60)] = 0,
) -> Response:
    """The outcome; with ``wait``, held open until it is decided or ``wait`` seconds pass."""
    decision, expires_at = await run_in_threadpool(
        app.challenges.outcome, integration, transaction_id
    )
    if decision.result is Result.CHALLENGE and wait > 0:
        waiter: Waiter = request.app.state.waiter
        left = min(float(wait), expires_at - app.deps.clock.now() + 0.2)
        await waiter.wait(decision.transaction_id or transaction_id, left)
        decision, _ = await run_in_threadpool(app.challenges.outcome, integration, transaction_id)
    return _answer(decision)


def _answer(decision: Decision) -> JSONResponse:
    return JSONResponse(
        {
            "result": decision.result.value,
            "reason": decision.reason.value if decision.reason else None,
            "transaction_id": decision.transaction_id,
            "methods": list(decision.methods),
            "number": decision.number,
            "prompt": decision.prompt,
        }
    )
