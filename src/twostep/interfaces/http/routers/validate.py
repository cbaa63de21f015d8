"""``POST /v1/validate``: the integration asks "is this really the user?"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from twostep.domain.errors import TransactionNotFound
from twostep.interfaces.http.deps import AppDep, IntegrationDep
from twostep.interfaces.http.schemas import CodeBody, ValidateAnswer, ValidateBody
from twostep.services.authenticate import ValidateRequest

router = APIRouter(prefix="/v1/validate", tags=["validate"])


@router.post("", response_model=ValidateAnswer)
def validate(body: ValidateBody, app: AppDep, integration: IntegrationDep) -> ValidateAnswer:
    decision = app.authenticator.validate(
        ValidateRequest(
            user=body.user,
            integration=integration,
            tenant=body.tenant,
            code=body.code,
            method=body.method,
            client_ip=body.client_ip,
        )
    )
    return ValidateAnswer(
        result=decision.result.value,
        reason=decision.reason.value if decision.reason else None,
        transaction_id=decision.transaction_id,
        methods=list(decision.methods),
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
