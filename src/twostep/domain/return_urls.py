"""Return URLs: where the hosted sign-in page may send a user back (docs/hosted-signin.md).

An integration lists them; a request's ``redirect_uri`` must be one of them exactly. The
rules close the usual open-redirect holes: https (plain http on a loopback host only, for
development), an explicit host, no userinfo (``https://good@evil``), no query (the page
adds ``result`` and ``state``, and a second copy of either would be ambiguous), no
fragment, no wildcard, printable ASCII only (an international host in its ``xn--`` form).
The scheme and host are compared in lower case and a default port is dropped; the path is
compared exactly as written.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from twostep.domain.errors import InvalidInput

MAX_LENGTH = 2048
MAX_URLS = 20
_ALLOWED = re.compile(r"^[!-~]+$")  # printable ASCII, no space
_HOST = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_DEFAULT_PORTS = {"https": 443, "http": 80}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalise(url: str, field: str = "return_urls") -> str:
    """The URL in the one form it is stored and compared in; ``InvalidInput`` if refused."""

    def refuse(why: str) -> InvalidInput:
        return InvalidInput(f"return URL refused: {why}", field=field)

    if not isinstance(url, str) or not url or len(url) > MAX_LENGTH:
        raise refuse(f"a URL of 1-{MAX_LENGTH} characters is required")
    if not _ALLOWED.match(url) or "\\" in url:
        raise refuse("printable ASCII without spaces or backslashes only")
    if "*" in url:
        raise refuse("no wildcards: list each URL")
    if "#" in url:
        raise refuse("no fragment")
    if "?" in url:
        raise refuse("no query: the application's context goes in state")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise refuse("not a URL with a valid port") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise refuse("https only (http for a loopback host)")
    if "@" in parts.netloc:
        raise refuse("no user name or password in the URL")
    host = (parts.hostname or "").lower()
    if not host:
        raise refuse("a host is required")
    literal = parts.netloc.split("]")[0].lstrip("[") if parts.netloc.startswith("[") else None
    if literal is not None:
        try:
            ipaddress.IPv6Address(literal)
        except ValueError as exc:
            raise refuse("not a valid IPv6 address") from exc
    elif not _HOST.match(host):
        raise refuse("not a valid host name or address")
    if scheme == "http" and not is_loopback(host):
        raise refuse("https is required except on a loopback host (localhost, 127.0.0.1, ::1)")
    path = parts.path or "/"
    if not path.startswith("/"):
        raise refuse("the path must start with /")
    netloc = f"[{host}]" if literal is not None else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}{path}"


def normalise_all(urls: list[str]) -> list[str]:
    """A list of return URLs, each normalised, duplicates dropped, order kept."""
    if len(urls) > MAX_URLS:
        raise InvalidInput(f"at most {MAX_URLS} return URLs", field="return_urls")
    found: list[str] = []
    for url in urls:
        normal = normalise(url)
        if normal not in found:
            found.append(normal)
    return found


def allowed(redirect_uri: str, urls: list[str]) -> str | None:
    """The listed URL ``redirect_uri`` names (normalised), or None: never a URL not listed."""
    try:
        normal = normalise(redirect_uri, "redirect_uri")
    except InvalidInput:
        return None
    return normal if normal in urls else None
