"""``POST /v1/validate``: the integration asks "is this really the user?"."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from ipaddress import ip_address
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from twostep.bootstrap import App
from twostep.domain.results import Decision, Result
from twostep.interfaces.http.deps import (
    AppDep,
    Credentials,
    IntegrationDep,
    authenticated_integration,
    bearer,
    key_of,
)
from twostep.interfaces.http.openapi import errors
from twostep.interfaces.http.schemas import CodeBody, ValidateAnswer, ValidateBody
from twostep.services.signin_request import SignInRequest

# The fields of a sign-in whose refusal by the text rule is audited.
_AUDITED = {("user",), ("code",), ("tenant",), ("password",)}


class KeyFirst(APIRoute):
    """The validate API checks the integration key before anything else in the request
    (docs/integrator-guide.md). The hot route checks the key inside the validation's own
    read, so this check runs on the error path only: a body refused as malformed or invalid
    answers 401 when the key is not valid, and a sign-in refused by the text rule is audited.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        audited = self.path == "/v1/validate"

        async def key_first(request: Request) -> Response:
            try:
                return await handler(request)
            except (RequestValidationError, HTTPException) as exc:
                if isinstance(exc, HTTPException) and exc.status_code != 400:
                    raise
                credentials = await bearer(request)
                app: App = request.app.state.twostep
                await run_in_threadpool(_refused, app, credentials, exc if audited else None)
                raise

        return key_first


def _refused(
    app: App, credentials: HTTPAuthorizationCredentials | None, exc: Exception | None
) -> None:
    """Raises Unauthenticated for a key that is not an active integration key; audits a
    sign-in whose user, code or tenant holds a control character."""
    if _signin_refused(exc):
        assert isinstance(exc, RequestValidationError)
        user = exc.body.get("user")
        app.signin.refuse(
            key_of(credentials),
            user if isinstance(user, str) else "",
            client_ip=_ip(exc.body.get("client_ip")),
        )
        return
    authenticated_integration(app, credentials)


def _signin_refused(exc: Exception | None) -> bool:
    """A sign-in body whose user, code or tenant the text rule refused."""
    return (
        isinstance(exc, RequestValidationError)
        and isinstance(exc.body, dict)
        and any(
            p.get("type") == "control_character" and p.get("loc", ())[1:2] in _AUDITED
            for p in exc.errors()
        )
    )


def _ip(value: object) -> str | None:
    """The client_ip sent, if it is one (the body was refused: nothing else is checked)."""
    if not isinstance(value, str) or len(value) > 45:
        return None
    try:
        return str(ip_address(value))
    except ValueError:
        return None


router = APIRouter(prefix="/v1/validate", tags=["validate"], route_class=KeyFirst)


@router.post("", response_model=ValidateAnswer, responses=errors(404))
async def validate(body: ValidateBody, app: AppDep, credentials: Credentials) -> Response:
    # The common request is answered ahead of this route, by hot_routes.Validate, through
    # the same decide() and answer(); this one describes the route and answers the rest.
    return answer(await decide(app, key_of(credentials), body))


async def decide(app: App, key: str | None, body: ValidateBody) -> Decision:
    """The sign-in. The hottest path: the key is checked in the validation's own read.
    Without a code, a challenge may be sent: a gateway's round trip must not hold the loop;
    a password costs an argon2 check (tens of milliseconds)."""
    if app.storage.inline and body.code is not None and body.password is None:  # see SqlStorage
        return _validate(app, key, body)
    return await run_in_threadpool(_validate, app, key, body)


def _validate(app: App, key: str | None, body: ValidateBody) -> Decision:
    return app.signin.sign_in(
        SignInRequest(
            user=body.user,
            integration_key=key,
            tenant=body.tenant,
            code=body.code,
            method=body.method,
            password=body.password,
            client_ip=body.client_ip,
            sent_ip=body.client_ip,  # sent by the integration: may meet a trusted network
        )
    )


@router.post("/{transaction_id}", response_model=ValidateAnswer)
def submit_code(
    transaction_id: str, body: CodeBody, app: AppDep, integration: IntegrationDep
) -> Response:
    """The code the user typed for a text-message challenge."""
    return answer(app.delivered.submit(integration, transaction_id, body.code))


@router.post("/{transaction_id}/resend", response_model=ValidateAnswer, responses=errors(409, 429))
def resend(transaction_id: str, app: AppDep, integration: IntegrationDep) -> Response:
    """Send a text-message challenge again, with a new code (the old one stops working)."""
    return answer(app.delivered.resend(integration, transaction_id))


@router.get("/{transaction_id}", response_model=ValidateAnswer)
async def wait_outcome(
    transaction_id: str,
    app: AppDep,
    integration: IntegrationDep,
    wait: Annotated[int, Query(ge=0, le=60)] = 0,
) -> Response:
    """The outcome; with ``wait``, held open until it is decided or ``wait`` seconds pass."""
    decision, expires_at = await run_in_threadpool(
        app.challenges.outcome, integration, transaction_id
    )
    if decision.result is Result.CHALLENGE and wait > 0:
        left = min(float(wait), expires_at - app.deps.clock.now() + 0.2)
        await app.waits.wait_async(decision.transaction_id or transaction_id, left)
        decision, _ = await run_in_threadpool(app.challenges.outcome, integration, transaction_id)
    return answer(decision)


def answer(decision: Decision) -> JSONResponse:
    """The validate API's answer (ValidateAnswer), written directly rather than through
    response_model."""
    return JSONResponse(
        {
            "result": decision.result.value,
            "reason": decision.reason.value if decision.reason else None,
            "transaction_id": decision.transaction_id,
            "methods": list(decision.methods),
            "number": decision.number,
            "prompt": decision.prompt,
            "message": decision.message,
        }
    )
