"""Push channels: the notifiers Twostep is configured with, plus the always-present pull.

A device names its push kind at activation (``pull``, ``webpush``, ``ntfy``, ``fcm``) and
sends the channel that kind needs. :class:`PushRegistry` checks that channel and, when a
sign-in request is waiting, wakes the device through the right :class:`PushNotifier`.
``pull`` needs nothing: the device long-polls the device API, which always works.

What the push notifiers share lives here too: :class:`ChannelGone` (the push service says
the subscription no longer exists: forget the channel, keep the device on pull), channel
field checks, and the host-only masking used in errors and logs. A channel's keys and
tokens never appear in either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from twostep.adapters.gateways.common import is_loopback
from twostep.domain.delivery import ChannelGone, GatewayError, PushNotifier
from twostep.domain.errors import InvalidInput

log = logging.getLogger(__name__)

PULL = "pull"
MAX_URL_LENGTH = 2048


class PushRegistry:
    """The configured push notifiers by kind, plus ``pull`` (always known, never sent)."""

    def __init__(self, notifiers: Iterable[PushNotifier]) -> None:
        self._notifiers: dict[str, PushNotifier] = {}
        for notifier in notifiers:
            if notifier.kind == PULL:
                raise ValueError("push kind 'pull' is built in")
            if notifier.kind in self._notifiers:
                raise ValueError(f"push kind {notifier.kind!r} is configured twice")
            self._notifiers[notifier.kind] = notifier

    def kinds(self) -> frozenset[str]:
        return frozenset({PULL, *self._notifiers})

    def check_channel(self, kind: str, channel: Mapping[str, str]) -> dict[str, str]:
        """Validate a device's push channel for ``kind``; return it normalised.

        ``channel`` is the device's ``push`` object; a ``kind`` entry equal to ``kind``
        is ignored. Raises InvalidInput (unknown kind, missing or malformed fields)."""
        fields = {k: v for k, v in channel.items() if not (k == "kind" and v == kind)}
        if kind == PULL:
            only_fields(fields, (), PULL)
            return {}
        notifier = self._notifiers.get(kind)
        if notifier is None:
            known = ", ".join(sorted(self.kinds()))
            raise InvalidInput(
                f"unknown push kind {kind!r}; this server takes: {known}", field="push.kind"
            )
        return notifier.check_channel(fields)

    def notify(self, kind: str, channel: Mapping[str, str], payload: bytes) -> None:
        """Wake the device; nothing for ``pull``. Raises ChannelGone when the push
        service says the channel is gone, GatewayError on any other failure (the
        device can still long-poll: a failed push loses no request)."""
        if kind == PULL:
            return
        notifier = self._notifiers.get(kind)
        if notifier is None:  # a device activated while this kind was configured
            raise GatewayError(f"push kind {kind!r} is not configured on this server")
        try:
            notifier.notify(channel, payload)
        except ChannelGone as exc:
            log.info("push channel gone: %s", exc)
            raise
        except GatewayError as exc:
            log.warning("push failed: %s", exc)
            raise
        target = channel.get("endpoint") or channel.get("url")
        log.debug("push sent via %s to %s", kind, host_of(target) if target else kind)


def notifiers_from_config(
    vapid_key_path: Path | None,
    vapid_subject: str | None = None,
    *,
    ntfy: bool = True,
    ntfy_server: str | None = None,
    ntfy_token: str | None = None,
    fcm_service_account_path: Path | None = None,
    fcm_endpoint: str | None = None,
    timeout: float = 5.0,
) -> list[PushNotifier]:
    """The push notifiers the operator configured, from plain values.

    - Web Push when ``vapid_key_path`` is set (the EC P-256 key is created there, mode
      0600, if missing) with ``vapid_subject`` (``mailto:admin@example.com`` or
      ``https://host``).
    - ntfy / UnifiedPush unless ``ntfy`` is false; ``ntfy_token`` (Bearer) is sent only to
      topics on ``ntfy_server`` (its origin, e.g. ``https://ntfy.example.net``).
    - FCM HTTP v1 when ``fcm_service_account_path`` (a service-account JSON file) is set;
      ``fcm_endpoint`` overrides ``https://fcm.googleapis.com``.

    Raises InvalidSetting for an unusable value.
    """
    # Imported here: those modules import ChannelGone and the helpers from this one.
    from twostep.adapters.gateways.push_fcm import DEFAULT_ENDPOINT, FcmNotifier
    from twostep.adapters.gateways.push_ntfy import NtfyNotifier
    from twostep.adapters.gateways.push_webpush import WebPushNotifier

    notifiers: list[PushNotifier] = []
    if vapid_key_path is not None:
        notifiers.append(
            WebPushNotifier.from_key_file(vapid_key_path, vapid_subject or "", timeout=timeout)
        )
    if ntfy:
        notifiers.append(NtfyNotifier(server=ntfy_server, token=ntfy_token, timeout=timeout))
    if fcm_service_account_path is not None:
        notifiers.append(
            FcmNotifier.from_file(
                fcm_service_account_path,
                endpoint=fcm_endpoint or DEFAULT_ENDPOINT,
                timeout=timeout,
            )
        )
    return notifiers


# --- what the notifiers share ---------------------------------------------------------


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
