"""What the services and the storage tell the metrics: a narrow port, so neither imports a
metrics library. Every label value is one of a few known words, never a name or an address."""

from __future__ import annotations

from typing import Protocol

from twostep.domain.audit import AuditEvent


class Metrics(Protocol):
    def audited(self, event: AuditEvent) -> None:
        """One verification's audit event was committed (its result, reason, method and
        interface are counted; a ``fraud_reported`` one also as a fraud report)."""

    def locked(self, cause: str) -> None:
        """A user was locked: ``failures`` (the lockout rule) or ``fraud`` (a report)."""

    def delivered(self, gateway_kind: str, channel: str, ok: bool) -> None:
        """One attempt to hand a text, email or call to a gateway, and whether it took it."""


class NoMetrics:
    """Records nothing: tests and commands that serve no ``/metrics``."""

    def audited(self, event: AuditEvent) -> None:
        pass

    def locked(self, cause: str) -> None:
        pass

    def delivered(self, gateway_kind: str, channel: str, ok: bool) -> None:
        pass


NO_METRICS: Metrics = NoMetrics()
