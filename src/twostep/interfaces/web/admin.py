"""The management portal's foundation: ``/admin/signin`` (tenant, user name and primary
password, then the second factor) and ``/admin/signout``; ``/admin`` and the portal's other
pages are in portal/.

Other pages of the portal use ``AdminPages.guard`` and ``AdminPages.actor``::

    def users_page(request: Request) -> Response:
        visit = portal.pages.visit(request)
        refused = portal.guard(visit, Permission.USERS_READ)
        if refused is not None:
            return refused
        users = portal.pages.app.admin.list_users(portal.actor(visit), tenant, ...)
        return portal.pages.render(visit, "admin/users.html", ...)

``guard`` sends a visitor without a live session to the sign-in, and answers 403 (a page
that says so) when the session's role lacks the permission (domain/permissions.py). An admin
API key never opens a page: only the portal's own session cookie (``twostep_admin``,
``Path=/admin``) is read, and only a session opened here (page_sets.py): a self-service
session opens nothing at /admin, whatever cookie carries it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from twostep.domain.entities import AdminKey
from twostep.domain.pages import PageSession, Stage
from twostep.domain.permissions import Permission, allows
from twostep.interfaces.web import page_sets, security, texts
from twostep.interfaces.web.pages import Pages, Visit, field
from twostep.interfaces.web.second_factor import SecondFactor
from twostep.services.admin_grants import pick
from twostep.services.page_signin import PageSignIn

SIGNIN = "/admin/signin"
HOME = "/admin"
SIGNOUT = "/admin/signout"


class AdminPages:
    def __init__(self, pages: Pages, signin: PageSignIn) -> None:
        self.pages = pages
        self.factor = SecondFactor(pages, signin, SIGNIN, self._signed_in, self._signin_page)

    def routes(self, router: APIRouter) -> None:
        router.add_api_route(SIGNIN, self.signin_form, methods=["GET"])
        router.add_api_route(SIGNIN, self.signin_post, methods=["POST"])
        self.factor.routes(router)
        router.add_api_route(SIGNOUT, self.signout, methods=["POST"])

    # -- for every page of the portal --------------------------------------------------

    def guard(self, visit: Visit, permission: Permission) -> Response | None:
        """None when the visitor may see this; else the answer to send instead."""
        session = visit.signed_in
        if session is None:
            return self.pages.redirect(visit, SIGNIN)
        if not allows(session.role, permission):
            return self.pages.render(
                visit,
                "refused.html",
                status=403,
                title=texts.N_("Not allowed"),
                message=texts.NOT_AN_ADMIN
                if session.role is None
                else texts.N_("Your role does not allow this page."),
            )
        return None

    @staticmethod
    def actor(visit: Visit) -> AdminKey:
        """The signed-in admin as the services know an actor: their grant's role and
        tenant, the admin trail's interface ``web``."""
        session = visit.signed_in
        assert session is not None and session.role is not None
        return AdminKey(
            id=0,
            key_id=f"user:{session.user_id}",
            name=f"{session.tenant}/{session.user}"[:128],
            role=session.role,
            tenant_id=session.scope_tenant_id,
            created_at=session.created_at,
            source=visit.client_ip,
            interface="web",
        )

    # -- sign-in -----------------------------------------------------------------------

    def signin_form(self, request: Request) -> Response:
        visit = self.pages.visit(request)
        if visit.signed_in is not None and visit.signed_in.role is not None:
            return self.pages.redirect(visit, HOME)
        return self._signin_page(visit, None, 200)

    def _signin_page(self, visit: Visit, message: str | None, status: int) -> Response:
        return self.pages.render(
            visit,
            "signin.html",  # the password form every page set shares
            action="/admin/signin",
            status=status,
            title=texts.N_("Sign in to the management portal"),
            message=message,
            tenant=visit.request.query_params.get("tenant", "default")[:64],
        )

    def signin_post(
        self,
        request: Request,
        csrf: Annotated[str, Form()] = "",
        tenant: Annotated[str, Form()] = "",
        user: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
    ) -> Response:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        self.pages.app.page_sessions.end(visit.token)  # a new sign-in ends the old session
        name = field(tenant).strip() or "default"
        return self.factor.begin(visit, name, field(user).strip(), field(password))

    def _signed_in(self, visit: Visit, factor: PageSession) -> Response:
        """The second factor accepted: a new session with the user's widest grant, or a
        page saying they have none."""
        app = self.pages.app
        grant = pick(app.admin_grants.of_user(factor.user_id))
        if grant is None:
            response = self.pages.render(
                visit,
                "refused.html",
                status=403,
                title=texts.N_("Not allowed"),
                message=texts.NOT_AN_ADMIN,
            )
            security.clear_session(response, page_sets.ADMIN)
            return response
        token = app.page_sessions.open(
            factor.tenant_id,
            factor.user_id,
            Stage.SIGNED_IN,
            role=grant.role,
            scope_tenant_id=grant.scope_tenant_id,
            client_ip=visit.client_ip,
            data=page_sets.marked(page_sets.ADMIN),
        )
        response = self.pages.redirect(visit, HOME)
        security.set_session(response, page_sets.ADMIN, token)
        return response

    # -- sign-out (the landing page, /admin, is the portal's dashboard: portal/) ------

    def signout(self, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        visit = self.pages.visit(request)
        self.pages.check_form(visit, csrf)
        self.pages.app.page_sessions.end(visit.token)
        response = self.pages.redirect(visit, SIGNIN)
        security.clear_session(response, page_sets.ADMIN)
        return response
