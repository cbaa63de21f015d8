"""Alerts that must reach administrators at once (a fraud report)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class AlertSink(Protocol):
    """Tells administrators at once (a fraud report): a webhook, besides the log line."""

    def send(self, url: str, alert: Mapping[str, object]) -> None:
        """Post ``alert`` as JSON to ``url`` without holding up the caller."""
        ...
