"""The three page sets and which one a session belongs to.

The management portal (``/admin``), the self-service portal (``/my``) and the hosted
sign-in page (``/signin``) each keep their own session cookie, scoped by ``Path`` to the
set's pages, so a browser may be signed in to both portals at once and signing in or out of
one leaves the other alone. The cookie's name is not what keeps them apart, though: every
session records its page set in its ``data`` (JSON) when it opens, and a page reads a
session only when it is its own set's (``owner``). A /my session's token sent under the
admin cookie's name opens nothing at /admin, and the other way round.

What names the set in ``data``:

* a signed-in session, or a /my registration session: ``{"set": "<name>", ...}``
  (``marked``);
* a sign-in in progress (a ``second_factor`` session of second_factor.py): its ``prefix``,
  the page set's path its second-factor step runs under.

Anything else (no data, another shape, an unknown name) belongs to no set and opens nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PageSet:
    name: str  # as sessions record it
    path: str  # the pages' prefix, and the session cookie's ``Path``
    cookie: str  # the session cookie's name

    def holds(self, path: str) -> bool:
        """``path`` (query and fragment ignored) is one of this set's pages."""
        path = path.partition("?")[0].partition("#")[0]
        return path == self.path or path.startswith(self.path + "/")


ADMIN = PageSet("admin", "/admin", "twostep_admin")
MY = PageSet("my", "/my", "twostep_my")
HOSTED = PageSet("signin", "/signin", "twostep_signin")
PAGE_SETS = (ADMIN, MY, HOSTED)
_BY_NAME = {s.name: s for s in PAGE_SETS}


def find(path: str) -> PageSet | None:
    """The page set ``path`` belongs to, if any (``/admin/signin`` is the admin portal's)."""
    return next((s for s in PAGE_SETS if s.holds(path)), None)


def of(path: str) -> PageSet:
    """The page set of a path the code knows is one of its pages (a page set's prefix)."""
    found = find(path)
    if found is None:
        raise ValueError(f"{path!r} is no page set's path")
    return found


def marked(page_set: PageSet, **values: Any) -> str:
    """The ``data`` of a session opened for ``page_set`` (with ``values`` besides)."""
    return json.dumps({"set": page_set.name, **values})


def owner(data: str | None) -> PageSet | None:
    """The page set a session belongs to, read from its ``data``."""
    try:
        values = json.loads(data or "")
    except ValueError:
        return None
    if not isinstance(values, dict):
        return None
    name = values.get("set")
    if isinstance(name, str):
        return _BY_NAME.get(name)
    prefix = values.get("prefix")  # a sign-in in progress: second_factor.Progress
    return find(prefix) if isinstance(prefix, str) and prefix.startswith("/") else None
