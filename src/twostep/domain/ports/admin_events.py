"""The admin trail: one event per change made through the admin API or the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.admin_events import AdminEvent, AdminEventQuery


class AdminEventSink(Protocol):
    def add(self, tenant_id: int | None, event: AdminEvent) -> None: ...


class AdminEventRepo(AdminEventSink, Protocol):
    def query(self, query: AdminEventQuery) -> Sequence[AdminEvent]: ...
