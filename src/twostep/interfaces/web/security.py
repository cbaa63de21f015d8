"""What every page answer carries and every form post must pass.

* Headers (``HEADERS``): a strict Content-Security-Policy (nothing but this server's own
  stylesheet, script and images; no inline script or style; no framing; forms post only
  here), ``X-Content-Type-Options``, ``Referrer-Policy``, ``Cache-Control: no-store``.
* Cookies (``set_cookie``): ``Secure; HttpOnly; SameSite=Strict; Path=/``. The portals
  share one session cookie; the hosted sign-in page has its own (``session_cookie``).
  Browsers keep a Secure cookie on ``https://`` and on loopback (``http://127.0.0.1``,
  ``localhost``) only: serve the pages behind TLS (the operator guide's "Pages").
* CSRF (``check_form``): every form carries a token bound to the browser's session cookie
  (or, before sign-in, to its pre-session cookie): an HMAC of that cookie under a key
  derived from the server's secret key, compared in constant time. A post whose ``Origin``
  names another host, or whose ``Sec-Fetch-Site`` says another site, is refused first.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from twostep.domain.errors import CsrfRefused
from twostep.domain.ports.secrets import SecretBox

SESSION_COOKIE = "twostep_session"
# The hosted sign-in page's own session cookie: an application's sign-in through /signin
# must not end (or be read as) the portal session the same browser holds at /admin or /my.
# Path ``/`` still, so the language switch (``/language``) can check its form token.
HOSTED_SESSION_COOKIE = "twostep_signin"
HOSTED_PREFIX = "/signin"
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


def session_cookie(path: str) -> str:
    """The session cookie of the page set ``path`` belongs to: the hosted sign-in page's
    own, else the portals' (``/admin/signin`` and ``/my/signin`` are the portals')."""
    path = path.partition("?")[0].partition("#")[0]
    if path == HOSTED_PREFIX or path.startswith(HOSTED_PREFIX + "/"):
        return HOSTED_SESSION_COOKIE
    return SESSION_COOKIE


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )


def set_device_cookie(
    response: Response, name: str, value: str, max_age: int, path: str, https: bool
) -> None:
    """A remembered browser's cookie: scoped to its page set's path, Secure when the page
    was served over https, and SameSite=Lax, so a link from the application (the hosted
    sign-in's request) still carries it; it proves nothing without the user's sign-in."""
    response.set_cookie(
        name, value, max_age=max_age, path=path, secure=https, httponly=True, samesite="lax"
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="strict")


def new_pre_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(secrets_box: SecretBox, bound_to: str) -> str:
    """The form token for the cookie value ``bound_to``."""
    return secrets_box.digest(bound_to.encode(), _CSRF_CONTEXT).hex()


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
    request: Request, secrets_box: SecretBox, bound_to: str | None, sent: object
) -> None:
    """Raise ``CsrfRefused`` unless the post is same-origin and carries the token of the
    cookie it is bound to."""
    if not same_origin(request):
        raise CsrfRefused("the form was posted from another site")
    if not bound_to or not isinstance(sent, str) or not sent or not sent.isascii():
        raise CsrfRefused("the form's token is missing")
    expected = csrf_token(secrets_box, bound_to)
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfRefused("the form's token is wrong")
