"""Push channels: the notifiers Twostep is configured with, plus the always-present pull.

A device names its push kind at activation (``pull``, ``webpush``, ``ntfy``, ``fcm``) and
sends the channel that kind needs. :class:`PushRegistry` checks that channel and, when a
sign-in request is waiting, wakes the device through the right :class:`PushNotifier`.
``pull`` needs nothing: the device long-polls the device API, which always works.

A notifier raises :class:`ChannelGone` when its push service says the subscription no
longer exists: the channel is forgotten and the device stays on pull. What the notifiers
share (channel field checks, host-only masking) is in :mod:`push_channel`, which imports
neither this module nor the notifiers: the notifiers never import their registry.

Web Push needs the ``webpush`` extra (``pip install 'twostep[webpush]'``); without it the
server leaves Web Push out (``webpush`` is not among its push kinds) and says so in its log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from twostep.adapters.gateways import push_webpush
from twostep.adapters.gateways.push_channel import PushChannel, host_of, parse_channel
from twostep.adapters.gateways.push_fcm import DEFAULT_ENDPOINT, FcmChannel, FcmNotifier
from twostep.adapters.gateways.push_ntfy import NtfyChannel, NtfyNotifier
from twostep.adapters.gateways.push_webpush import WebPushChannel, WebPushNotifier
from twostep.domain.delivery import ChannelGone, GatewayError, PushNotifier
from twostep.domain.errors import InvalidInput

log = logging.getLogger(__name__)

PULL = "pull"


class PullChannel(PushChannel):
    """No push: the device long-polls the device API."""

    kind: Literal["pull"]


# Every push kind's channel, as the device API describes them (a server takes the kinds
# it is configured for: GET /v1/devices/push-config lists them).
CHANNELS: tuple[type[PushChannel], ...] = (PullChannel, WebPushChannel, NtfyChannel, FcmChannel)


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
            parse_channel(PullChannel, fields, PULL)
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
      ``https://host``), and its libraries (the ``webpush`` extra) are installed: without
      them Web Push is left out, with a line in the log.
    - ntfy / UnifiedPush unless ``ntfy`` is false; ``ntfy_token`` (Bearer) is sent only to
      topics on ``ntfy_server`` (its origin, e.g. ``https://ntfy.example.net``).
    - FCM HTTP v1 when ``fcm_service_account_path`` (a service-account JSON file) is set;
      ``fcm_endpoint`` overrides ``https://fcm.googleapis.com``.

    Raises InvalidSetting for an unusable value.
    """
    notifiers: list[PushNotifier] = []
    if vapid_key_path is not None and not push_webpush.available():
        log.info("Web Push is off: %s", push_webpush.MISSING)
    elif vapid_key_path is not None:
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
