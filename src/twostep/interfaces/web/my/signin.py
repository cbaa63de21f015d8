"""Signing in to the self-service portal: ``/my/signin`` (organisation, user name, primary
password through the one sign-in flow, integration ``portal``), then the second factor
(``/my/verify``, the pages' reusable step); a user who must register goes to the
registration instead (or is told to ask for an enrollment link). A user the registration
policy refuses who has a method they may use passes its second factor first, then reaches
only the registration (an attacker with the password alone adds no method). ``/my/enroll/{token}``:
the enrollment link's landing page (a GET spends nothing: mail scanners open links), and
``/my/signout``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from twostep.domain.errors import EnrollmentLinkInvalid, InvalidInput, Unauthenticated
from twostep.domain.pages import PageSession
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.self_service import RegistrationReason
from twostep.interfaces.web import page_sets, security, texts
from twostep.interfaces.web.my import words
from twostep.interfaces.web.my.base import PREFIX, SIGNIN, SIGNOUT, MyBase
from twostep.interfaces.web.pages import Pages, Visit, field
from twostep.interfaces.web.remember import COOKIE, Remember
from twostep.interfaces.web.second_factor import SecondFactor
from twostep.services.page_signin import PORTAL, PageSignIn
from twostep.services.self_service import Me

# Refusals after a right password that mean "nothing to sign in with".
_NOTHING = frozenset(
    {
        Reason.NO_METHOD_REGISTERED,
        Reason.REGISTRATION_REQUIRED,
        Reason.TOKEN_EXPIRED,
        Reason.REGISTRATION_POLICY,  # a kind the tenant's policy asks of their groups
    }
)


class MySignIn(MyBase):
    def __init__(self, pages: Pages) -> None:
        super().__init__(pages)
        app = pages.app
        self.signin = PageSignIn(app.deps, app.signin, app.challenges, app.delivered, PORTAL)
        self.remember = Remember(pages, "my", PREFIX)
        self.factor = SecondFactor(
            pages, self.signin, PREFIX, self._second_factor, self._page, self.remember
        )

    def routes(self, router: APIRouter) -> None:
        router.add_api_route(SIGNIN, self.form, methods=["GET"])
        router.add_api_route(SIGNIN, self.post, methods=["POST"])
        self.factor.routes(router)
        router.add_api_route(SIGNOUT, self.signout, methods=["POST"])
        router.add_api_route(PREFIX + "/enroll/{token}", self.link, methods=["GET"])
        router.add_api_route(PREFIX + "/enroll/{token}", self.redeem, methods=["POST"])

    # -- sign-in -----------------------------------------------------------------------

    def form(self, request: Request) -> Response:
        visit = self.pages.visit(request)
        if visit.signed_in is not None:
            return self.pages.redirect(visit, PREFIX)
        return self._page(visit, None, 200)

    def _page(self, visit: Visit, message: str | None, status: int) -> Response:
        return self.render(
            visit,
            "signin.html",  # the password form every page set shares
            action="/my/signin",
            status=status,
            title=words.SIGNIN_TITLE,
            message=message,
            tenant=visit.request.query_params.get("tenant", "default")[:64],
        )

    def post(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        tenant: Annotated[str, Form()] = "",
        user: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
    ) -> Response:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        self.app.page_sessions.end(visit.token)  # a new sign-in ends the old session
        name, typed = field(user).strip(), field(password)
        integration = self.signin.integration(field(tenant).strip() or "default")
        if integration is None or not name or not typed:
            return self._page(visit, texts.SIGNIN_FAILED, 401)
        known = self._remembered(request, integration.tenant_id, name)
        decision = self.signin.password(integration, name, typed, visit.client_ip, known)
        right = decision.result is Result.ACCEPT or decision.reason in _NOTHING
        me = self.app.self_service.find(integration.tenant_id, name, visit.client_ip)
        if not right or me is None:
            return self.factor.started(visit, integration, name, decision, self._why(me, decision))
        if decision.result is Result.ACCEPT:  # no second factor asked of this user
            return self.open(visit, me, register=False)
        if self.app.self_service.registers_after_password(me):
            return self.open(visit, me, register=True)
        return self._page(visit, words.NEEDS_LINK, 403)

    def _why(self, me: Me | None, decision: Decision) -> str | None:
        """Why a user the registration policy refuses is asked a factor (after the right
        password only: a challenge started)."""
        if me is None or decision.result is not Result.CHALLENGE:
            return None
        reason = self.app.self_service.info(me).reason
        return words.PROVE_FIRST if reason is RegistrationReason.REGISTRATION_POLICY else None

    def _remembered(self, request: Request, tenant_id: int, name: str) -> bool:
        """This browser is remembered for this user (read only when it holds a cookie)."""
        if COOKIE not in request.cookies:
            return False
        with self.app.storage.transaction() as tx:
            user = tx.users.by_name(tenant_id, name)
        return self.remember.recognised(request, tenant_id, user.id if user else None)

    def _second_factor(self, visit: Visit, factor: PageSession) -> Response:
        me = Me(factor.tenant_id, factor.tenant, factor.user_id, factor.user, visit.client_ip)
        # A user the registration policy refuses passed the factor only to register the
        # kind it asks (the portal's sign-in is ``registering``): the registration alone.
        register = self.app.self_service.info(me).reason is not None
        return self.open(visit, me, register=register)

    def signout(self, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        self.app.page_sessions.end(visit.token)
        response = self.pages.redirect(visit, SIGNIN)
        security.clear_session(response, page_sets.MY)
        return response

    # -- the enrollment link -----------------------------------------------------------

    def link(self, request: Request, token: str) -> Response:
        visit = self.pages.visit(request)
        try:
            view = self.app.enrollment_links.look(token)
        except EnrollmentLinkInvalid:
            return self._invalid(visit)
        return self._link_page(visit, token, view.user, view.needs_password, None, 200)

    def redeem(
        self,
        request: Request,
        token: str,
        csrf: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
    ) -> Response:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        links = self.app.enrollment_links
        try:
            me = links.redeem(token, field(password) or None, visit.client_ip)
        except EnrollmentLinkInvalid:
            return self._invalid(visit)
        except (Unauthenticated, InvalidInput):
            view = links.look(token)
            return self._link_page(visit, token, view.user, True, words.LINK_PASSWORD, 401)
        return self.open(visit, me, register=True)

    def _link_page(
        self,
        visit: Visit,
        token: str,
        user: str,
        needs_password: bool,
        message: str | None,
        status: int,
    ) -> Response:
        return self.render(
            visit,
            "my/enroll.html",
            status=status,
            title=texts.N_("Register your first method"),
            user=user,
            token=token,
            needs_password=needs_password,
            message=message,
        )

    def _invalid(self, visit: Visit) -> Response:
        return self.render(
            visit,
            "my/refused.html",
            status=404,
            title=texts.N_("Link not valid"),
            message=words.LINK_INVALID,
        )
