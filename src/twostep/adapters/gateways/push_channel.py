"""What the push notifiers share: channel field checks and the host-only masking.

:mod:`push_webpush`, :mod:`push_ntfy` and :mod:`push_fcm` import these; the registry
(:mod:`push_registry`) imports the notifiers. Nothing here imports either, so the
notifiers never import their registry (an import-linter contract in pyproject.toml keeps
it so). A channel's keys and tokens never appear in errors or logs: only its host does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from twostep.adapters.gateways.common import is_loopback
from twostep.domain.errors import InvalidInput

MAX_URL_LENGTH = 2048


def only_fields(channel: Mapping[str, object], names: Iterable[str], kind: str) -> None:
    """Refuse fields a ``kind`` channel does not have."""
    extra = sorted(set(channel) - set(names))
    if extra:
        raise InvalidInput(
            f"a {kind} push channel has no field {extra[0]!r}", field=f"push.{extra[0]}"
        )


def text_field(channel: Mapping[str, object], name: str, kind: str, max_length: int) -> str:
    value = channel.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput(
            f"a {kind} push channel needs the text field {name!r}", field=f"push.{name}"
        )
    if len(value) > max_length:
        raise InvalidInput(f"push {name} is too long", field=f"push.{name}")
    return value


def push_url(channel: Mapping[str, object], name: str, kind: str) -> str:
    """An https URL (http only to a loopback host, for tests), without credentials."""
    url = text_field(channel, name, kind, MAX_URL_LENGTH)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        host = None
    field = f"push.{name}"
    if not host or parts.scheme not in ("https", "http") or url != url.strip():
        raise InvalidInput(f"push {name} must be an https URL", field=field)
    if parts.scheme == "http" and not is_loopback(host):
        raise InvalidInput(f"push {name} must be an https URL", field=field)
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(f"push {name} must not carry credentials", field=field)
    return url


def host_of(url: str) -> str:
    """What of a push URL may be logged: the host (the path is the device's secret)."""
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"
