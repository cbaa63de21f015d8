"""``POST /v1/validate``: the integration asks "is this really the user?"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from twostep.bootstrap import App
from twostep.domain.errors import TransactionNotFound
from twostep.domain.results import Decision
from twostep.interfaces.http.deps import (
    AppDep,
    Credentials,
    IntegrationDep,
)
from twostep.interfaces.http.schemas import CodeBody, ValidateAnswer, ValidateBody
from twostep.services.authenticate import ValidateRequest

router = APIRouter(prefix="/v1/validate", tags=["validate"])


@router.post("", response_model=ValidateAnswer)
async def validate(body: ValidateBody, app: AppDep, credentials: Credentials) -> Response:
    # The hottest route: the key is checked in the validation's own read, and the answer
    # is written directly rather than through response_model.
    if app.storage.inline:  # see SqlStorage.inline
        decision = _validate(app, credentials, body)
    else:
        decision = await run_in_threadpool(_validate, app, credentials, body)
    return JSONResponse(
        {
            "result": decision.result.value,
            "reason": decision.reason.value if decision.reason else None,
            "transaction_id": decision.transaction_id,
            "methods": list(decision.methods),
        }
    )


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
) -> ValidateAnswer:
    # Out-of-band methods (SMS, voice, push) create transactions; none exists yet.
    raise TransactionNotFound(f"no pending transaction {transaction_id[:64]!r}")


@router.get("/{transaction_id}", response_model=ValidateAnswer)
def wait_outcome(
    transaction_id: str,
    app: AppDep,
    integration: IntegrationDep,
    wait: Annotated[int, Query(ge=0, le=60)] = 0,
) -> ValidateAnswer:
    raise TransactionNotFound(f"no pending transaction {transaction_id[:64]!r}")
