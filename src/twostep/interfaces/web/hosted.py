"""The hosted sign-in page (``/signin``, docs/hosted-signin.md): an application sends its
user here with a signed request; the page runs the second factor with the reusable step
(second_factor.py) over the one sign-in flow, under the request's integration; the user
goes back to the request's return URL with a signed result.

1. ``GET /signin?request=...`` checks the request (services/hosted_signin.py) and shows
   whom it signs in, with a button: nothing starts on a GET (a link checker or a preview
   must not send a text or burn the request). A bad request shows an error page with its
   code and redirects nowhere.
2. ``POST /signin`` starts it: the request's jti is recorded (one sign-in per request), the
   user's default method starts, and two sessions open: the second-factor step's own, and
   this page's (``twostep_hosted``: which integration, user, return URL and state), both
   server-side, ten minutes. A sign-in decided at once (MFA disabled, locked, unknown
   user) goes straight back with its result.
3. ``/signin/verify`` and ``/signin/status`` are the second-factor step's, run with the
   request's integration (``_current``: it names the integration for the step's calls).
4. Accepted: a result is issued and the user sent back. The page answers 200 with a
   refresh to the return URL and a link: a redirect from a form post to another site would
   break the pages' ``form-action 'self'`` policy, which browsers apply to redirects.

The return URL is always the integration's listed one that the request named; a session's
context is used only with the second-factor session of the same user.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from twostep.domain.entities import Integration
from twostep.domain.errors import IntegrationNotActivated, TwostepError
from twostep.domain.pages import PageSession, Stage
from twostep.domain.results import Decision, Result
from twostep.interfaces.http.errors import status_for
from twostep.interfaces.web import page_sets, security, texts
from twostep.interfaces.web.pages import Pages, Visit, field
from twostep.interfaces.web.remember import Remember
from twostep.interfaces.web.second_factor import Progress, SecondFactor
from twostep.services.hosted_signin import HostedRequest, HostedSignIn
from twostep.services.page_signin import PageSignIn

PREFIX = "/signin"
CONTEXT_COOKIE = "twostep_hosted"
BAD_REQUEST = texts.N_(
    "This sign-in link cannot be used: it has expired, was already used, or was not made "
    "for this server. Go back to the application and sign in again."
)
# The application's integration waits to be activated again (its provider was replaced).
NOT_ACTIVATED = texts.N_(
    "This application cannot use two-step verification until your administrator activates "
    "it again. Try again later."
)

# The integration of the hosted sign-in this request continues, for the step's calls.
_current: ContextVar[Integration | None] = ContextVar("hosted_integration", default=None)


class _RequestIntegration(PageSignIn):
    """The second-factor step's calls under the request's integration (not a built-in
    one): its name is the audit event's integration, its tenant the user's."""

    def integration(self, tenant_name: str) -> Integration | None:
        return _current.get()


class _Factor(SecondFactor):
    def __init__(self, pages: Pages, signin: PageSignIn, owner: HostedPages) -> None:
        remember = Remember(pages, "signin", PREFIX)
        super().__init__(pages, signin, PREFIX, owner._accepted, owner._failed, remember)
        self.owner = owner

    def start(self, progress: Progress, decision: Decision) -> Progress:
        """The step's state once the sign-in's first challenge (or prompt) started."""
        return self._apply(progress, decision)

    def ended(self, visit: Visit, session: PageSession, decision: Decision) -> Response:
        """A sign-in that cannot go on (locked, disabled, fraud reported) goes back to the
        application with its reject, so the application is told rather than left waiting."""
        return self.owner._rejected(visit, session, decision)


class HostedPages:
    def __init__(self, pages: Pages, service: HostedSignIn, signin: PageSignIn) -> None:
        self.pages = pages
        self.service = service
        steps = _RequestIntegration(signin.deps, signin.signin, signin.challenges, signin.delivered)
        self.factor = _Factor(pages, steps, self)

    def routes(self, router: APIRouter) -> None:
        router.add_api_route(PREFIX, self.landing, methods=["GET"])
        router.add_api_route(PREFIX, self.start, methods=["POST"])
        router.add_api_route(f"{PREFIX}/verify", self.show, methods=["GET"])
        router.add_api_route(f"{PREFIX}/verify", self.post, methods=["POST"])
        router.add_api_route(f"{PREFIX}/status", self.status, methods=["GET"])

    # -- 1 and 2: the request --------------------------------------------------------

    def landing(self, request: Request) -> Response:
        visit = self.pages.visit(request)
        token = field(request.query_params.get("request"))
        try:
            found = self.service.check(token)
        except TwostepError as exc:
            return self._refused(visit, exc)
        return self.pages.render(
            visit,
            "hosted/start.html",
            title=texts.N_("Verify it is you"),
            app=found.integration.name,
            user=found.user,
            request_token=token,
        )

    def start(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        request_token: Annotated[str, Form(alias="request")] = "",
    ) -> Response:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        try:
            found = self.service.open(field(request_token))
        except TwostepError as exc:
            return self._refused(visit, exc)
        self.pages.app.page_sessions.end(visit.token)  # a new sign-in ends the old one
        user_id = self._user_id(found)
        remember = self.factor.remember
        known = remember is not None and remember.recognised(
            request, found.integration.tenant_id, user_id
        )
        decision = self.service.sign_in(
            found, client_ip=visit.client_ip, prompt_for_code=True, remembered_device=known
        )
        if decision.result is not Result.CHALLENGE:  # decided at once: back with it
            return self._back(visit, found, decision, None)
        if user_id is None:  # deleted meanwhile
            return self._back(visit, found, Decision(Result.REJECT), None)
        token = _current.set(found.integration)
        try:
            first = Progress(prefix=PREFIX, user=found.user, methods=decision.methods)
            progress = self.factor.start(first, decision)
        finally:
            _current.reset(token)
        sessions = self.pages.app.page_sessions
        tenant = found.integration.tenant_id
        step = sessions.open(
            tenant, user_id, Stage.SECOND_FACTOR, client_ip=visit.client_ip, data=progress.dump()
        )
        context = sessions.open(
            tenant, user_id, Stage.SECOND_FACTOR, client_ip=visit.client_ip, data=_dump(found)
        )
        response = self.pages.redirect(visit, f"{PREFIX}/verify")
        security.set_session(response, page_sets.HOSTED, step)
        security.set_cookie(response, CONTEXT_COOKIE, context, path=PREFIX)
        return response

    def _user_id(self, found: HostedRequest) -> int | None:
        with self.pages.app.storage.transaction() as tx:
            user = tx.users.by_name(found.integration.tenant_id, found.user)
        return user.id if user is not None else None

    # -- 3: the second-factor step, under the request's integration --------------------

    def show(self, request: Request) -> Response:
        with _Within(self._integration(request)):
            return self.factor.show(request)

    def post(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        action: Annotated[str, Form()] = "",
        code: Annotated[str, Form()] = "",
        method: Annotated[str, Form()] = "",
        remember: Annotated[str, Form()] = "",
    ) -> Response:
        with _Within(self._integration(request)):
            return self.factor.post(request, csrf, action, code, method, remember)

    async def status(self, request: Request) -> Response:
        integration = await run_in_threadpool(self._integration, request)
        with _Within(integration):
            return await self.factor.status(request)

    def _context(self, request: Request, step: PageSession | None) -> HostedRequest | None:
        """This browser's hosted sign-in, when it belongs to the user of its second-factor
        session (``step``) and its integration is still active."""
        context = self.pages.app.page_sessions.find(request.cookies.get(CONTEXT_COOKIE))
        if context is None or step is None or context.user_id != step.user_id:
            return None
        integration = self.service.active_integration(_key_id(context.data))
        found = _load(context.data, integration)
        if found is None or found.integration.tenant_id != step.tenant_id:
            return None
        return found

    def _integration(self, request: Request) -> Integration | None:
        step = self.pages.app.page_sessions.find(request.cookies.get(page_sets.HOSTED.cookie))
        found = self._context(request, step)
        return found.integration if found is not None else None

    # -- 4: back to the application ----------------------------------------------------

    def _accepted(self, visit: Visit, step: PageSession) -> Response:
        found = self._context(visit.request, step)  # step: ended by now, still its user's
        if found is None:
            return self._failed(visit, texts.SIGNIN_EXPIRED, 200)
        progress = Progress.load(step.data)
        self.pages.app.page_sessions.end(visit.request.cookies.get(CONTEXT_COOKIE))
        kind = progress.kind if progress is not None else None
        return self._back(visit, found, Decision(Result.ACCEPT), kind)

    def _rejected(self, visit: Visit, step: PageSession, decision: Decision) -> Response:
        found = self._context(visit.request, step)  # step: ended by now, still its user's
        if found is None:
            return self._failed(visit, texts.SIGNIN_FAILED, 401)
        self.pages.app.page_sessions.end(visit.request.cookies.get(CONTEXT_COOKIE))
        progress = Progress.load(step.data)
        kind = progress.kind if progress is not None else None
        return self._back(visit, found, decision, kind)

    def _back(
        self, visit: Visit, found: HostedRequest, decision: Decision, method: str | None
    ) -> Response:
        issued = self.service.issue(found, decision, method)
        response = self.pages.render(
            visit,
            "hosted/return.html",
            title=texts.N_("Verify it is you"),
            url=issued.url,
            app=found.integration.name,
        )
        security.clear_cookie(response, CONTEXT_COOKIE, PREFIX)
        security.clear_session(response, page_sets.HOSTED)
        return response

    def _failed(self, visit: Visit, message: str, status: int) -> Response:
        response = self.pages.render(
            visit,
            "hosted/refused.html",
            status=status,
            title=texts.N_("Not allowed"),
            message=message,
            code=None,
        )
        security.clear_cookie(response, CONTEXT_COOKIE, PREFIX)
        return response

    def _refused(self, visit: Visit, exc: TwostepError) -> Response:
        return self.pages.render(
            visit,
            "hosted/refused.html",
            status=status_for(exc),
            title=texts.N_("Not allowed"),
            message=NOT_ACTIVATED if isinstance(exc, IntegrationNotActivated) else BAD_REQUEST,
            code=exc.code,
        )


class _Within:
    """``_current`` set for a block (the step's calls read it), and reset after."""

    def __init__(self, integration: Integration | None) -> None:
        self.integration = integration

    def __enter__(self) -> None:
        self.token = _current.set(self.integration)

    def __exit__(self, *_exc: object) -> None:
        _current.reset(self.token)


def _dump(found: HostedRequest) -> str:
    values = asdict(found)
    values["integration"] = found.integration.key_id
    return json.dumps(values)


def _key_id(data: str | None) -> str:
    try:
        key = json.loads(data or "").get("integration")
    except (ValueError, AttributeError):
        return ""
    return key if isinstance(key, str) else ""


def _load(data: str | None, integration: Integration | None) -> HostedRequest | None:
    if integration is None:
        return None
    try:
        values = json.loads(data or "")
        values["integration"] = integration
        return HostedRequest(**values)
    except (ValueError, TypeError, AttributeError):
        return None
