"""The pages: server-rendered HTML for people, served by ``twostep serve`` beside the API
(``install(api)`` in interfaces/http/app.py). English and Korean; no JavaScript build step.

The foundation every page set builds on:

* ``site.install``: the routes, the static files (``static/``: one stylesheet, one small
  script for progressive enhancement), the language switch, the answer to a refused form.
* ``pages.Pages`` / ``pages.Visit``: a request's session, language and form token; render a
  template (``templates/``, Jinja2, autoescaped; extend ``base.html``) with the security
  headers. ``security``: the headers, the cookies, the CSRF check.
* ``i18n``: the catalogs (``locale/``: messages.pot, en and ko .po, compiled in memory at
  start-up) and the choice of language. ``texts``: texts from Python, marked ``N_``.
* ``second_factor.SecondFactor``: the second-factor step of a sign-in, over the one sign-in
  service (services/page_signin.py names the calls), for any page set.
* ``admin.AdminPages``: ``/admin/signin``, ``/admin``, ``/admin/signout``, and ``guard`` /
  ``actor`` for every page of the management portal (domain/permissions.py decides).

Translations: ``make messages`` extracts the strings into ``locale/messages.pot`` and
updates the .po files (babel.cfg); tests/unit/interfaces/web/test_catalogs.py fails on a
string missing from or untranslated in the ko catalog, and on stale entries.
"""

from __future__ import annotations

from twostep.interfaces.web.site import install

__all__ = ["install"]
