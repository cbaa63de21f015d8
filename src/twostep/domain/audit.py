"""The audit event: the record of one verification attempt."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AuditEvent:
    event_id: str
    at: float  # epoch seconds
    tenant: str
    user: str  # the unique ID as the caller sent it (also for unknown users)
    method: str | None
    result: str
    reason: str | None
    integration: str | None
    server_name: str  # the Twostep node that decided
    server_ip: str | None
    client_ip: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    device: str | None = None  # app install or token serial, never a secret
    interface: str = "http"  # http, radius, cli
    detail: str | None = None  # more on the reason, e.g. each gateway's error; never a secret
    request_id: str | None = None  # the HTTP or RADIUS request that made it (X-Request-ID)
    seq: int | None = None  # store-assigned, for cursor paging


@dataclass(frozen=True, slots=True)
class AuditQuery:
    tenant_id: int
    user: str | None = None
    result: str | None = None
    method: str | None = None
    request_id: str | None = None
    reason: str | None = None
    integration: str | None = None
    interface: str | None = None
    since: float | None = None
    until: float | None = None
    after_seq: int | None = None  # cursor: events with a greater seq
    limit: int = 100
    newest_first: bool = False  # the last ``limit`` events, newest first
