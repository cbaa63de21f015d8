"""What the push notifiers share: the channel model, field checks, host-only masking.

:mod:`push_webpush`, :mod:`push_ntfy` and :mod:`push_fcm` import these; the registry
(:mod:`push_registry`) imports the notifiers. Nothing here imports either, so the
notifiers never import their registry (an import-linter contract in pyproject.toml keeps
it so). A channel's keys and tokens never appear in errors or logs: only its host does.

Each kind's channel is a :class:`PushChannel` model (its fields, lengths, descriptions),
which the device API's OpenAPI description shows as a union by ``kind``; the notifier
checks the rest (an https URL, a key on the curve).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.config import JsonDict

from twostep.adapters.gateways.common import is_loopback
from twostep.domain.errors import InvalidInput

MAX_URL_LENGTH = 2048
# A channel's fields are stored sealed and never answered: the API marks them write-only.
WRITE_ONLY: JsonDict = {"writeOnly": True}


class PushChannel(BaseModel):
    """A device's push channel: ``kind`` and that kind's fields, every value a string."""

    model_config = ConfigDict(extra="forbid", strict=True, hide_input_in_errors=True)


C = TypeVar("C", bound=PushChannel)


def parse_channel(model: type[C], channel: Mapping[str, object], kind: str) -> C:
    """``channel`` (without its ``kind``) as ``model``; InvalidInput naming ``push.<field>``
    for a field the kind does not have, one missing or not text, or one too long."""
    try:
        return model.model_validate({**channel, "kind": kind} if "kind" not in channel else channel)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        problems.sort(key=lambda p: p["type"] != "extra_forbidden")  # as a typo is likeliest
        problem = problems[0]
        name = str(problem["loc"][0]) if problem["loc"] else "kind"
        field = f"push.{name}"
        if problem["type"] in ("extra_forbidden", "literal_error"):
            message = f"a {kind} push channel has no field {name!r}"
        elif problem["type"] == "string_too_long":
            message = f"push {name} is too long"
        else:  # missing, not a string, empty
            message = f"a {kind} push channel needs the text field {name!r}"
        raise InvalidInput(message, field=field) from None


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
    return https_url(text_field(channel, name, kind, MAX_URL_LENGTH), name)


def https_url(url: str, name: str) -> str:
    """``url`` if it is https (http only to a loopback host), without credentials; else
    InvalidInput naming ``push.<name>``."""
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
