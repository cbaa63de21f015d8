"""The audit log: one event per attempt."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.audit import AuditEvent, AuditQuery


class AuditSink(Protocol):
    """Where a use case writes its events."""

    def add(self, tenant_id: int, event: AuditEvent) -> None: ...


class AuditRepo(AuditSink, Protocol):
    def query(self, query: AuditQuery) -> Sequence[AuditEvent]: ...
