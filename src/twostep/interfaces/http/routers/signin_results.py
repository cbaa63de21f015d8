"""``POST /v1/signin/results/{jti}/redeem``: an application spends a hosted sign-in result
once, after checking its signature offline (docs/hosted-signin.md)."""

from __future__ import annotations

from fastapi import APIRouter, Path
from pydantic import BaseModel

from twostep.interfaces.http.deps import AppDep, IntegrationDep
from twostep.interfaces.http.openapi import errors
from twostep.services.hosted_signin import MAX_JTI

router = APIRouter(prefix="/v1/signin", tags=["hosted sign-in"])


class Redeemed(BaseModel):
    jti: str
    redeemed: bool = True


@router.post(
    "/results/{jti}/redeem",
    response_model=Redeemed,
    responses=errors(409),  # signin_result_redeemed (404 signin_result_not_found: derived)
)
def redeem_result(
    integration: IntegrationDep,
    app: AppDep,
    jti: str = Path(min_length=1, max_length=MAX_JTI),
) -> Redeemed:
    """Redeem the result with this ``jti``: exactly one call succeeds, on any node."""
    app.hosted_signin.redeem(integration, jti)
    return Redeemed(jti=jti)
