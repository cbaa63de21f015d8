"""The admin event: the record of one change made by an admin (or a refusal of one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OK = "ok"  # the result of a change that was made; otherwise the error code that refused it


@dataclass(frozen=True, slots=True)
class AdminEvent:
    event_id: str
    at: float  # epoch seconds
    actor: str  # the admin API key's id, or "operator" (the CLI)
    action: str  # what was done: user.create, settings.update, directory.sync, ...
    result: str  # OK, or the stable error code that refused it
    interface: str  # http, cli, sync (a scheduled directory sync)
    server_name: str  # the Twostep node that did it
    tenant: str | None = None  # None: a global change (a tenant admin never sees these)
    actor_name: str | None = None
    role: str | None = None
    source: str | None = None  # the client's address, or "cli"
    target: str | None = None  # what it was done to: "alice", "alice/sms-1", a gateway's name
    # What changed, field by field: {"field": [before, after]}. Never a secret: a secret
    # field is recorded as changed ("***"), never its value.
    changes: Mapping[str, Any] = field(default_factory=dict)
    seq: int | None = None  # store-assigned, for cursor paging


@dataclass(frozen=True, slots=True)
class AdminEventQuery:
    tenant_id: int | None  # None with ``every_tenant``: every event, global ones too
    every_tenant: bool = False
    action: str | None = None  # exact, or a prefix ending in "." ("user.")
    actor: str | None = None
    target: str | None = None
    since: float | None = None
    until: float | None = None
    after_seq: int | None = None
    limit: int = 100
