"""What the user hands to ``activate``: an activation URL and code, or the QR's text
``twostep://activate?url=<activation url>&code=<code>``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

from twostep.authenticator.errors import InvalidActivation

ACTIVATE_PATH = "/v1/devices/activate"
URI_SCHEME = "twostep"
_CODE = re.compile(r"[A-Z0-9]{4,64}")


@dataclass(frozen=True, slots=True)
class ActivationTarget:
    base_url: str  # the server: device calls go to <base_url>/v1/devices/...
    activation_url: str  # where the activation is POSTed
    code: str  # normalised: no dashes or spaces, upper case


def parse(url_or_uri: str, code: str | None = None) -> ActivationTarget:
    """Read ``URL CODE`` or the QR's ``twostep://activate?...`` text (then without CODE)."""
    text = url_or_uri.strip()
    if text.lower().startswith(f"{URI_SCHEME}:"):
        if code is not None:
            raise InvalidActivation("give either the QR's twostep:// text or a URL and a code")
        url, code = _from_uri(text)
    else:
        if code is None:
            raise InvalidActivation("an activation code is needed with an activation URL")
        url = text
    base_url, activation_url = split_url(url)
    return ActivationTarget(base_url, activation_url, normalise_code(code))


def _from_uri(text: str) -> tuple[str, str]:
    parts = urlsplit(text)
    if parts.netloc.lower() != "activate" or parts.path not in ("", "/"):
        raise InvalidActivation("not a Twostep activation URI (twostep://activate?url=…&code=…)")
    query = parse_qs(parts.query, keep_blank_values=True)
    urls, codes = query.get("url", []), query.get("code", [])
    if len(urls) != 1 or len(codes) != 1 or not urls[0] or not codes[0]:
        raise InvalidActivation("the activation URI needs exactly one url and one code")
    return urls[0], codes[0]


def split_url(url: str) -> tuple[str, str]:
    """The server's base URL and the activation URL, from either of them.

    The activation URL ends with ``/v1/devices/activate``; what comes before it is the
    base every device call is made under. A bare server URL is taken as that base.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidActivation(f"not an http(s) URL: {url!r}")
    if parts.query or parts.fragment:
        raise InvalidActivation("the activation URL takes no query or fragment")
    path = parts.path.rstrip("/")
    if path.endswith(ACTIVATE_PATH):
        path = path[: -len(ACTIVATE_PATH)]
    base = urlunsplit((parts.scheme.lower(), parts.netloc, path, "", ""))
    return base, base + ACTIVATE_PATH


def normalise_code(code: str) -> str:
    """Dashes, spaces and case do not matter in an activation code."""
    cleaned = re.sub(r"[\s-]", "", code).upper()
    if not _CODE.fullmatch(cleaned):
        raise InvalidActivation("the activation code should be letters and digits, like K7PQ-9ZRM")
    return cleaned
