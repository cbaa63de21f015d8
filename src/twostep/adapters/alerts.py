"""Alerts to a webhook: JSON posted from a short-lived thread, so a slow receiver never
holds up the sign-in that raised the alert. Failures are logged, not retried."""

from __future__ import annotations

import functools
import logging
import ssl
import threading
from collections.abc import Mapping

import httpx

log = logging.getLogger("twostep.alerts")

TIMEOUT = 5.0


@functools.cache
def _tls() -> ssl.SSLContext:
    """Built once per process: loading the CA bundle costs ~20 ms of CPU each time."""
    return ssl.create_default_context()


class WebhookAlerts:
    def send(self, url: str, alert: Mapping[str, object]) -> None:
        threading.Thread(target=self._post, args=(url, dict(alert)), daemon=True).start()

    def _post(self, url: str, alert: dict[str, object]) -> None:
        try:
            answer = httpx.post(url, json=alert, timeout=TIMEOUT, verify=_tls())
            answer.raise_for_status()
        except httpx.HTTPError as exc:
            host = httpx.URL(url).host
            log.warning("alert webhook to %s failed: %s", host, type(exc).__name__)
