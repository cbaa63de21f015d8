"""The id of the request being handled (injected like the clock): the audit event of a
sign-in records it, so an event and the log lines of its request can be matched."""

from __future__ import annotations

from typing import Protocol


class RequestIds(Protocol):
    def current(self) -> str | None:
        """The id of the request in hand, or None outside a request (a scheduled sweep)."""
        ...


class NoRequestIds:
    """No request ids (services used outside an interface, e.g. in unit tests)."""

    def current(self) -> str | None:
        return None
