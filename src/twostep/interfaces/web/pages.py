"""What every page set shares: the visit (who is here, in which language, with which form
token), the Jinja2 templates (autoescaped; one environment per language, its catalog
installed), and the answer (the security headers, the pre-session cookie).

A page handler::

    visit = pages.visit(request)           # reads (and touches) its page set's session
    pages.check_form(request, visit, csrf)  # every POST, first
    return pages.render(visit, "name.html", title=_("..."), ...)

Templates extend ``base.html`` (header with the language switch and sign-out, skip link,
``<main id="main">``); they write text with ``{% trans %}`` or ``_()``, and every form
carries ``{{ csrf_field() }}``.

A visit reads only the session cookie of the page set its path belongs to (page_sets.py),
and only a session of that set: another set's session, whatever cookie carries it, is no
session here. Its form token is that set's, bound to that session (or the pre-session
cookie).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from twostep.bootstrap import App
from twostep.domain.pages import PageSession, Stage
from twostep.interfaces.web import i18n, page_sets, security
from twostep.interfaces.web.page_sets import PageSet

_MAX_FIELD = 4096  # a form field longer than this is cut (the services refuse what it means)


@dataclass(frozen=True, slots=True)
class Visit:
    """One request to a page: its live session (if any), the cookie value the form token
    is bound to, and the language."""

    request: Request
    page_set: PageSet | None  # the set of pages the request's path belongs to
    session: PageSession | None
    token: str | None  # the session cookie's token, when its session is live
    pre: str  # the pre-session cookie's value (made now when ``new_pre``)
    new_pre: bool
    language: str
    csrf: str

    @property
    def signed_in(self) -> PageSession | None:
        s = self.session
        return s if s is not None and s.stage is Stage.SIGNED_IN else None

    @property
    def client_ip(self) -> str | None:
        return self.request.client.host if self.request.client is not None else None


def field(value: object) -> str:
    """A form field as text (absent: empty), cut to a sane length."""
    return value[:_MAX_FIELD] if isinstance(value, str) else ""


def _with_query(request: Request) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def local_path(value: str, default: str) -> str:
    """A redirect target that stays on this server: an absolute path, never ``//host``."""
    ok = value.startswith("/") and not value.startswith(("//", "/\\")) and value.isprintable()
    return value if ok else default


def _scope(page_set: PageSet | None) -> str:
    return page_set.name if page_set is not None else ""


SWITCH = "/switch-language"


def switch_path(page_set: PageSet | None) -> str | None:
    """Where a page of ``page_set`` posts its language switch (None: no switch there)."""
    return page_set.path + SWITCH if page_set is not None else None


class Pages:
    def __init__(self, app: App) -> None:
        self.app = app
        folder = str(resources.files(__package__) / "templates")
        self._envs = {lang: self._environment(folder, lang) for lang in i18n.LANGUAGES}
        self._names = i18n.names()

    @staticmethod
    def _environment(folder: str, language: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(folder),
            autoescape=select_autoescape(default=True, default_for_string=True),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
        return env

    def gettext(self, language: str) -> Any:
        return i18n.translations(language).gettext

    # -- the visit ---------------------------------------------------------------------

    def visit(self, request: Request) -> Visit:
        """Blocking (it reads the session): handlers are plain ``def``s, run in threads."""
        page_set = page_sets.find(request.url.path)
        token, session = None, None
        if page_set is not None:
            token = request.cookies.get(page_set.cookie)
            session = self.app.page_sessions.find(token)
            if session is not None and page_sets.owner(session.data) is not page_set:
                session = None  # another page set's session: none here
        pre = request.cookies.get(security.PRE_COOKIE) or ""
        new_pre = not (0 < len(pre) <= 64 and pre.isascii())
        if new_pre:
            pre = security.new_pre_token()
        live_token = token if session is not None else None
        language = i18n.choose(
            session.language if session is not None and session.stage is Stage.SIGNED_IN else None,
            request.cookies.get(i18n.LANGUAGE_COOKIE),
            request.headers.get("accept-language"),
        )
        bound = live_token or pre
        csrf = security.csrf_token(self.app.deps.secrets, _scope(page_set), bound)
        return Visit(request, page_set, session, live_token, pre, new_pre, language, csrf)

    def check_form(self, visit: Visit, sent: object) -> None:
        """Every POST, before anything else (raises ``CsrfRefused``)."""
        bound = visit.token or (None if visit.new_pre else visit.pre)
        scope = _scope(visit.page_set)
        security.check_form(visit.request, self.app.deps.secrets, scope, bound, sent)

    # -- answers -----------------------------------------------------------------------

    def render(self, visit: Visit, template: str, status: int = 200, **values: Any) -> Response:
        env = self._envs[visit.language]
        csrf = Markup('<input type="hidden" name="{}" value="{}">').format(
            security.CSRF_FIELD, visit.csrf
        )
        body = env.get_template(template).render(
            lang=visit.language,
            languages=self._names,
            here=visit.request.url.path,
            # The language switch comes back here, query included (the hosted page's request).
            here_full=_with_query(visit.request),
            # The language switch posts to the page set's own address: its session cookie
            # (Path-scoped) and form token are that set's.
            switch_language=switch_path(visit.page_set),
            session=visit.signed_in,
            csrf=visit.csrf,
            csrf_field=lambda: csrf,
            **values,
        )
        return self.finish(visit, HTMLResponse(body, status_code=status))

    def redirect(self, visit: Visit, to: str) -> Response:
        """303 See Other: after a post, the browser gets the next page."""
        return self.finish(visit, RedirectResponse(to, status_code=303))

    @staticmethod
    def finish(visit: Visit, response: Response) -> Response:
        if visit.new_pre:
            security.set_cookie(response, security.PRE_COOKIE, visit.pre)
        return security.secure(response)
