"""ntfy and UnifiedPush: POST the payload to the device's topic URL.

The device's channel is ``{"url": "https://ntfy.example.net/<topic>"}``: an ntfy topic
the app subscribes to, or the endpoint a UnifiedPush distributor gave the app (ntfy is
the common one). Either takes the raw body of a POST as the message. Knowing the topic
is what lets anyone publish to it, so the URL is treated like a key: only its host is
ever shown.

A server with access control wants a token: ``token`` is sent as ``Authorization:
Bearer`` to topics on ``server`` (its origin) and to no other host, so a device cannot
make Twostep hand the token to a server of its choosing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

import httpx
from pydantic import Field

from twostep.adapters.gateways.push_channel import (
    MAX_URL_LENGTH,
    WRITE_ONLY,
    PushChannel,
    host_of,
    https_url,
    parse_channel,
)
from twostep.domain.delivery import ChannelGone, GatewayError
from twostep.domain.errors import InvalidSetting

KIND = "ntfy"
GONE = frozenset({404, 410})  # UnifiedPush: the endpoint no longer exists


class NtfyChannel(PushChannel):
    """An ntfy topic, or the endpoint a UnifiedPush distributor gave the app."""

    kind: Literal["ntfy"]
    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="the topic's https URL (http only to a loopback host)",
        json_schema_extra=WRITE_ONLY,
    )


class NtfyNotifier:
    """Implements :class:`twostep.domain.delivery.PushNotifier` for ntfy / UnifiedPush."""

    kind = KIND

    def __init__(
        self, *, server: str | None = None, token: str | None = None, timeout: float = 5.0
    ) -> None:
        """Raises InvalidSetting for a token without the server it belongs to."""
        self._origin: tuple[str, str, int] | None = None
        if server:
            self._origin = _origin(server)
            if self._origin is None:
                raise InvalidSetting(
                    "ntfy_server must be an http or https URL", field="ntfy_server"
                )
        if token and self._origin is None:
            raise InvalidSetting(
                "ntfy_token needs ntfy_server: the token is sent to that server only",
                field="ntfy_server",
            )
        self._token = token or None
        self._timeout = timeout

    def check_channel(self, channel: Mapping[str, str]) -> dict[str, str]:
        return {"url": https_url(parse_channel(NtfyChannel, channel, KIND).url, "url")}

    def notify(self, channel: Mapping[str, str], payload: bytes) -> None:
        url = channel.get("url", "")
        host = host_of(url)
        headers = {"Content-Type": "application/json", "Urgency": "high"}
        if self._token and self._origin is not None and _origin(url) == self._origin:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = httpx.post(url, content=payload, headers=headers, timeout=self._timeout)
        except httpx.TimeoutException:
            raise GatewayError(f"ntfy ({host}): no answer within {self._timeout:g} s") from None
        except (httpx.HTTPError, ValueError) as exc:  # ValueError: an unusable stored URL
            raise GatewayError(f"ntfy ({host}): cannot reach it ({type(exc).__name__})") from None
        status = response.status_code
        if status in GONE:
            raise ChannelGone(f"ntfy ({host}): the topic is gone ({status})")
        if not 200 <= status < 300:
            raise GatewayError(f"ntfy ({host}): the server answered {status}")


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.lower(), port or default
