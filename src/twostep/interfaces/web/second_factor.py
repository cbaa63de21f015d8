"""The second-factor step of every sign-in at the pages, reusable: the management portal
uses it at ``/admin/signin``; the self-service portal and the hosted sign-in page make their
own ``SecondFactor`` with their prefix, their ``PageSignIn`` (its integration) and what
happens after (``after``: the accepted user's next page).

How it goes:

1. The page set's password form calls ``begin(visit, tenant, user, password)``: the sign-in
   checks the password and starts the user's default method. A right password opens a
   ``second_factor`` session (its own cookie token; ten minutes) holding the sign-in in
   progress; anything else answers the sign-in page with one message for every failure.
2. ``GET <prefix>/verify`` shows the method: a code field (an app's or token's code, or the
   code a text, call or email sent, with "send again"), or the number to match of a push
   (or a call to answer) with its live status (static/poll.js asks ``<prefix>/status``
   and posts the "continue" form when decided; without JavaScript the user presses it),
   "call again" for a call, and the user's other methods to switch to.
3. ``POST <prefix>/verify`` (``action``: ``code``, ``check``, ``resend``, ``switch``) calls
   the sign-in service; an accept ends the second_factor session and calls ``after``.

Every step reads the user from the server-side session, never from the form.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from twostep.domain.delivery import Channel
from twostep.domain.entities import Integration, MethodKind
from twostep.domain.errors import RateLimited, ResendRefused
from twostep.domain.pages import PageSession, Stage
from twostep.domain.results import Decision, Reason, Result
from twostep.factors import registry
from twostep.factors.base import Family
from twostep.interfaces.web import page_sets, security, texts
from twostep.interfaces.web.pages import Pages, Visit, field
from twostep.interfaces.web.remember import Remember
from twostep.services.page_signin import HIDDEN_REASONS, PageSignIn, Pending

_ENDS = frozenset({Reason.USER_LOCKED, Reason.USER_DISABLED, Reason.FRAUD_REPORTED})
_STATUS_WAIT = 10.0  # seconds a status request waits for the phone's answer, at most

# What happens once the second factor accepted: the answer to send (a session, a redirect).
After = Callable[[Visit, PageSession], Response]
# The sign-in page again, with a message (the page set's own form).
Again = Callable[[Visit, str, int], Response]


@dataclass(frozen=True, slots=True)
class Progress:
    """A sign-in in progress, as the second_factor session keeps it (JSON)."""

    prefix: str  # the page set it belongs to
    user: str
    transaction_id: str | None = None
    kind: str | None = None
    fresh: bool = False
    number: int | None = None
    methods: tuple[str, ...] = ()
    notice: str | None = None  # a message to show once (a texts.* msgid)

    def dump(self) -> str:
        values = {name: getattr(self, name) for name in self.__slots__}
        values["methods"] = list(self.methods)
        return json.dumps(values)

    @classmethod
    def load(cls, data: str | None) -> Progress | None:
        try:
            values = json.loads(data or "")
            values["methods"] = tuple(values.get("methods") or ())
            return cls(**values)
        except (ValueError, TypeError, AttributeError):
            return None

    def pending(self) -> Pending | None:
        if self.transaction_id is None or self.kind is None:
            return None
        return Pending(self.transaction_id, MethodKind(self.kind), self.fresh)


def _typed_kind(kind: str) -> bool:
    return registry.kind(MethodKind(kind)).family is Family.CODE


def _family(kind: str | None) -> str:
    """How the page shows the method: ``code`` (typed) or ``phone`` (answered there)."""
    if kind is None:
        return "none"
    spec = registry.kind(MethodKind(kind))
    if spec.family is Family.CODE or (spec.challenge is not None and spec.challenge.typed):
        return "code"
    return "phone"


class SecondFactor:
    def __init__(
        self,
        pages: Pages,
        signin: PageSignIn,
        prefix: str,
        after: After,
        again: Again,
        remember: Remember | None = None,
    ):
        self.pages = pages
        self.signin = signin
        self.prefix = prefix
        self.after = after
        self.again = again
        self.remember = remember  # the page set may remember the browser (not /admin)

    # -- step 1 ------------------------------------------------------------------------

    def begin(self, visit: Visit, tenant: str, user: str, password: str) -> Response:
        integration = self.signin.integration(tenant) if tenant and user and password else None
        if integration is None:  # answered like a wrong password, after the same work
            self.signin.no_such_tenant(password)
            return self.again(visit, texts.SIGNIN_FAILED, 401)
        decision = self.signin.password(integration, user, password, visit.client_ip)
        return self.started(visit, integration, user, decision)

    def started(
        self,
        visit: Visit,
        integration: Integration,
        user: str,
        decision: Decision,
        notice: str | None = None,
    ) -> Response:
        """The password step's decision, for a page set that looked at it first (the
        self-service portal sends a user who must register elsewhere); ``notice``: a
        message for the method's page (a texts msgid), shown once."""
        if decision.result is Result.REJECT and (
            decision.reason in HIDDEN_REASONS or decision.reason is None
        ):
            return self.again(visit, texts.SIGNIN_FAILED, 401)
        if decision.result is Result.ACCEPT:  # no second factor asked (MFA disabled)
            return self.again(visit, texts.FACTOR_REQUIRED, 403)
        found = self._user_of(integration.tenant_id, user)
        if found is None:  # deleted between the two reads
            return self.again(visit, texts.SIGNIN_FAILED, 401)
        progress = Progress(prefix=self.prefix, user=user, methods=decision.methods)
        progress = self._apply(progress, decision)
        if notice is not None:
            progress = _notice(progress, notice)
        token = self.pages.app.page_sessions.open(
            integration.tenant_id,
            found,
            Stage.SECOND_FACTOR,
            client_ip=visit.client_ip,
            data=progress.dump(),
        )
        response = self.pages.redirect(visit, f"{self.prefix}/verify")
        security.set_session(response, page_sets.of(self.prefix), token)
        return response

    def _user_of(self, tenant_id: int, name: str) -> int | None:
        with self.pages.app.storage.transaction() as tx:
            user = tx.users.by_name(tenant_id, name)
        return user.id if user is not None else None

    # -- the routes --------------------------------------------------------------------

    def routes(self, router: APIRouter) -> None:
        router.add_api_route(f"{self.prefix}/verify", self.show, methods=["GET"])
        router.add_api_route(f"{self.prefix}/verify", self.post, methods=["POST"])
        router.add_api_route(f"{self.prefix}/status", self.status, methods=["GET"])

    def _progress(self, visit: Visit) -> Progress | None:
        session = visit.session
        if session is None or session.stage is not Stage.SECOND_FACTOR:
            return None
        progress = Progress.load(session.data)
        return progress if progress is not None and progress.prefix == self.prefix else None

    def show(self, request: Request) -> Response:
        visit = self.pages.visit(request)
        progress = self._progress(visit)
        if progress is None:
            return self.again(visit, texts.SIGNIN_EXPIRED, 200)
        if progress.notice is not None:
            self._save(visit, Progress(**{**_values(progress), "notice": None}))
        return self._page(visit, progress)

    def _page(self, visit: Visit, progress: Progress, status: int = 200) -> Response:
        current = progress.kind
        # The methods to switch to: a typed-code kind already has its field here, so it is
        # not offered again (a text or call is: choosing it again sends a new one).
        shown = current if current is not None and _typed_kind(current) else None
        others = [m for m in progress.methods if m in {k.value for k in texts.KINDS} and m != shown]
        return self.pages.render(
            visit,
            "second_factor.html",
            status=status,
            title=texts.N_("Verify it is you"),
            prefix=self.prefix,
            kind=current,
            family=_family(current),
            kind_text=texts.KINDS.get(MethodKind(current)) if current else None,
            number=progress.number,
            resendable=_resendable(current),
            methods=[(m, texts.KINDS[MethodKind(m)]) for m in others],
            notice=progress.notice,
            remember_days=self._remember_days(visit),
        )

    def _remember_days(self, visit: Visit) -> int | None:
        if self.remember is None or visit.session is None:
            return None
        return self.remember.days(visit.session.tenant_id)

    def post(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        action: Annotated[str, Form()] = "",
        code: Annotated[str, Form()] = "",
        method: Annotated[str, Form()] = "",
        remember: Annotated[str, Form()] = "",
    ) -> Response:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        progress = self._progress(visit)
        if progress is None:
            return self.again(visit, texts.SIGNIN_EXPIRED, 200)
        assert visit.session is not None
        integration = self.signin.integration(visit.session.tenant)
        if integration is None:
            return self.again(visit, texts.SIGNIN_EXPIRED, 200)
        pending, ip = progress.pending(), visit.client_ip
        decision: Decision | None = None
        if action == "switch":
            kind = _kind(field(method), progress.methods)
            if kind is not None:
                decision = self.signin.switch(integration, progress.user, pending, kind, ip)
        elif pending is None:
            pass
        elif action == "code":
            typed = field(code).strip()
            decision = self.signin.code(integration, progress.user, pending, typed, ip)
        elif action == "check":
            decision = self.signin.outcome(integration, pending)
        elif action == "resend":  # a text or email with a new code, or a call again
            call = _called(pending.kind)
            try:
                decision = self.signin.resend(integration, pending)
            except (ResendRefused, RateLimited):
                refused = texts.CALL_AGAIN_REFUSED if call else texts.RESEND_REFUSED
                return self._page(visit, _notice(progress, refused), 409)
            if decision.result is Result.CHALLENGE:
                sent = texts.CALLED_AGAIN if call else texts.RESENT
                return self._redirect(visit, _notice(progress, sent))
        if decision is None:
            return self._page(visit, progress, 422)
        return self._decided(visit, progress, decision, remember == "1")

    async def status(self, request: Request) -> Response:
        """``{"done": true}`` once the pending push or call is decided (or there is nothing
        to wait for); waits up to 10 s for it."""
        visit = await run_in_threadpool(self.pages.visit, request)
        progress = self._progress(visit)
        pending = progress.pending() if progress is not None else None
        if pending is None or visit.session is None:
            return security.secure(JSONResponse({"done": True}))
        integration = await run_in_threadpool(self.signin.integration, visit.session.tenant)
        if integration is None:
            return security.secure(JSONResponse({"done": True}))
        decision = await run_in_threadpool(self.signin.outcome, integration, pending)
        if decision.result is Result.CHALLENGE:
            await self.pages.app.waits.wait_async(pending.transaction_id, _STATUS_WAIT)
            decision = await run_in_threadpool(self.signin.outcome, integration, pending)
        return security.secure(JSONResponse({"done": decision.result is not Result.CHALLENGE}))

    # -- decisions ---------------------------------------------------------------------

    def _decided(
        self, visit: Visit, progress: Progress, decision: Decision, remember: bool = False
    ) -> Response:
        session = visit.session
        assert session is not None
        if decision.result is Result.ACCEPT:
            self.pages.app.page_sessions.end(visit.token)
            response = self.after(visit, session)
            if remember and self.remember is not None:  # asked for on the page, now earned
                self.remember.keep(response, visit.request, session.tenant_id, session.user_id)
            return response
        if decision.result is Result.CHALLENGE:
            if decision.transaction_id == progress.transaction_id:  # still waiting
                return self._page(visit, _notice(progress, texts.STILL_WAITING))
            return self._redirect(visit, self._apply(progress, decision))
        if decision.reason in _ENDS:
            self.pages.app.page_sessions.end(visit.token)
            return self.ended(visit, session, decision)
        spent = replace_progress(progress, fresh=False)
        if not self._still_open(visit, progress):  # decided: only a switch goes on from here
            spent = replace_progress(spent, transaction_id=None, kind=None, number=None)
        self._save(visit, spent)
        return self._page(visit, _notice(spent, texts.reason_text(decision.reason)), 401)

    def ended(self, visit: Visit, session: PageSession, decision: Decision) -> Response:
        """The sign-in ended without an accept (locked, disabled, fraud reported): the page
        set's sign-in form with one message (the hosted page sends a reject back instead)."""
        return self.again(visit, texts.SIGNIN_FAILED, 401)

    def _still_open(self, visit: Visit, progress: Progress) -> bool:
        """A code method takes another try; a challenge while it is pending (a wrong
        texted code with tries left)."""
        pending = progress.pending()
        if pending is None:
            return False
        if registry.kind(pending.kind).family is Family.CODE:
            return True
        assert visit.session is not None
        integration = self.signin.integration(visit.session.tenant)
        if integration is None:
            return False
        return self.signin.outcome(integration, pending).result is Result.CHALLENGE

    def _apply(self, progress: Progress, decision: Decision) -> Progress:
        """A new challenge (or prompt) of this sign-in: what the next step answers."""
        pending = self.signin.pending(decision)
        if pending is None:
            return progress
        return replace_progress(
            progress,
            transaction_id=pending.transaction_id,
            kind=pending.kind.value,
            fresh=pending.fresh,
            number=decision.number,
            methods=decision.methods or progress.methods,
            notice=None,
        )

    def _redirect(self, visit: Visit, progress: Progress) -> Response:
        self._save(visit, progress)
        return self.pages.redirect(visit, f"{self.prefix}/verify")

    def _save(self, visit: Visit, progress: Progress) -> None:
        if visit.session is not None:
            self.pages.app.page_sessions.save_data(visit.session, progress.dump())


def _values(progress: Progress) -> dict[str, Any]:
    return {name: getattr(progress, name) for name in progress.__slots__}


def replace_progress(progress: Progress, **changes: Any) -> Progress:
    return Progress(**{**_values(progress), **changes})


def _notice(progress: Progress, notice: str) -> Progress:
    return replace_progress(progress, notice=notice)


def _kind(value: str, allowed: tuple[str, ...]) -> MethodKind | None:
    """One of the user's own listed methods, or None."""
    if value not in allowed:
        return None
    try:
        return MethodKind(value)
    except ValueError:
        return None


def _resendable(kind: str | None) -> bool:
    """A text or email can be sent again, a call placed again (services/delivered.py)."""
    if kind is None:
        return False
    rules = registry.kind(MethodKind(kind)).challenge
    return rules is not None and (rules.sends_code or rules.channel is Channel.VOICE)


def _called(kind: MethodKind) -> bool:
    rules = registry.kind(kind).challenge
    return rules is not None and rules.channel is Channel.VOICE
