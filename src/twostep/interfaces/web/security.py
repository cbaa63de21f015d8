"""What every page answer carries and every form post must pass.

* Headers (``HEADERS``): a strict Content-Security-Policy (nothing but this server's own
  stylesheet, script and images; no inline script or style; no framing; forms post only
  here), ``X-Content-Type-Options``, ``Referrer-Policy``, ``Cache-Control: no-store``.
* Cookies (``set_cookie``): ``Secure; HttpOnly; SameSite=Strict``. Each page set has its own
  session cookie (page_sets.py), scoped by ``Path`` to its pages (``set_session``):
  ``twostep_admin`` (``Path=/admin``), ``twostep_my`` (``Path=/my``), ``twostep_signin``
  (``Path=/signin``), so the browser sends an admin's session to /admin only, and signing in
  or out of one portal leaves the other's session alone; the server refuses a session under
  another set's cookie too (page_sets.py). The names carry no ``__Host-`` prefix: it
  requires ``Path=/``, which would send every set's session to every page, the very thing
  the separation removes. (Nor ``__Secure-``, which only stops a plain-HTTP answer from
  planting the cookie: a planted cookie could hold only the planter's own session, since a
  sign-in always makes a new token, and browsers already refuse to let plain HTTP overwrite
  a Secure cookie.) The pre-session cookie (``twostep_pre``) and the language cookie stay
  ``Path=/``: one per browser, no session in them. The portals' former shared cookie,
  ``twostep_session``, is read by nothing (its users sign in again after the upgrade).
  Browsers keep a Secure cookie on ``https://`` and on loopback (``http://127.0.0.1``,
  ``localhost``) only: serve the pages behind TLS (the operator guide's "Pages").
* CSRF (``check_form``): every form carries a token bound to its page set and to the
  browser's session cookie of that set (or, before sign-in, to its pre-session cookie): an
  HMAC of both under a key derived from the server's secret key, compared in constant time,
  so one set's token is refused by another's forms. A post whose ``Origin`` names another
  host, or whose ``Sec-Fetch-Site`` says another site, is refused first.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from twostep.domain.errors import CsrfRefused
from twostep.domain.ports.secrets import SecretBox
from twostep.interfaces.web.page_sets import PageSet

PRE_COOKIE = "twostep_pre"  # before sign-in: what the sign-in form's token is bound to
CSRF_FIELD = "csrf"
_CSRF_CONTEXT = "pages:csrf"

CSP = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "script-src 'self'",
        "img-src 'self' data:",  # QR codes are data: URLs
        "connect-src 'self'",  # the push status poll
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: with it, browsers send ``Origin: null`` on a form post, which the
    # origin check could not tell from another site's. Nothing leaves this server.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",  # for browsers that do not read frame-ancestors
}


def secure(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


def set_cookie(
    response: Response, name: str, value: str, max_age: int | None = None, path: str = "/"
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=path, secure=True, httponly=True, samesite="strict"
    )


def set_session(response: Response, page_set: PageSet, token: str) -> None:
    """The page set's session cookie, sent back to that set's pages only."""
    set_cookie(response, page_set.cookie, token, path=page_set.path)


def clear_session(response: Response, page_set: PageSet) -> None:
    clear_cookie(response, page_set.cookie, page_set.path)


def set_device_cookie(
    response: Response, name: str, value: str, max_age: int, path: str, https: bool
) -> None:
    """A remembered browser's cookie: scoped to its page set's path, Secure when the page
    was served over https, and SameSite=Lax, so a link from the application (the hosted
    sign-in's request) still carries it; it proves nothing without the user's sign-in."""
    response.set_cookie(
        name, value, max_age=max_age, path=path, secure=https, httponly=True, samesite="lax"
    )


def clear_cookie(response: Response, name: str, path: str = "/") -> None:
    response.delete_cookie(name, path=path, secure=True, httponly=True, samesite="strict")


def new_pre_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(secrets_box: SecretBox, scope: str, bound_to: str) -> str:
    """The form token of the page set named ``scope`` for the cookie value ``bound_to``."""
    return secrets_box.digest(f"{scope}\n{bound_to}".encode(), _CSRF_CONTEXT).hex()


def same_origin(request: Request) -> bool:
    """False when the browser says the post comes from another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # an old browser, or a client that is no browser: the token decides
    host = request.headers.get("host", "")
    return origin != "null" and urlsplit(origin).netloc.lower() == host.lower()


def check_form(
    request: Request, secrets_box: SecretBox, scope: str, bound_to: str | None, sent: object
) -> None:
    """Raise ``CsrfRefused`` unless the post is same-origin and carries the token of the
    page set ``scope`` and the cookie it is bound to."""
    if not same_origin(request):
        raise CsrfRefused("the form was posted from another site")
    if not bound_to or not isinstance(sent, str) or not sent or not sent.isascii():
        raise CsrfRefused("the form's token is missing")
    expected = csrf_token(secrets_box, scope, bound_to)
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfRefused("the form's token is wrong")
