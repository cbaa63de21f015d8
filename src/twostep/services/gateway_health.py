"""Gateway health, read from the audit log (so every node's deliveries count): per gateway
of a tenant, the sign-ins it delivered and the deliveries it failed, with the last error.

A sign-in whose text, call or email a gateway took is audited ``sent by <gateway>``; one
that no gateway could deliver is audited ``delivery_failed`` with each gateway tried and
its error (``main: HTTP 503; spare: timed out``). A gateway that failed while the next one
in failover order delivered is in the log only, not counted here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from twostep.domain.ports.gateways import GatewayActivity, GatewayRecord

MAX_HOURS = 7 * 24
FAILURES_READ = 10_000  # the newest failures read per report: enough to count a bad day
OUTBOX = "outbox"  # the built-in gateway of a tenant without gateways

_PART = re.compile(r"([A-Za-z0-9][A-Za-z0-9_.-]{0,63}): (.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class GatewayHealth:
    name: str
    kind: str
    position: int | None  # None: the built-in outbox
    deliveries: int
    failures: int
    last_delivery_at: float | None
    last_failure_at: float | None
    last_error: str | None  # the provider's error as audited (never a secret)


@dataclass(frozen=True, slots=True)
class HealthReport:
    since: float
    gateways: tuple[GatewayHealth, ...]
    undelivered: int  # sign-ins no gateway could deliver in the window


def summarise(
    records: Sequence[GatewayRecord], activity: GatewayActivity, since: float
) -> HealthReport:
    """One line per gateway in failover order (the outbox too when the tenant has no
    gateway, or it delivered in the window)."""
    kinds: dict[str, tuple[str, int | None]] = {r.name: (r.kind, r.position) for r in records}
    if not records or OUTBOX in activity.sent:
        kinds.setdefault(OUTBOX, ("outbox", None))
    failures: dict[str, list[tuple[float, str]]] = {name: [] for name in kinds}
    for at, detail in activity.failed:  # newest first
        for name, error in errors_by_gateway(detail, kinds).items():
            failures[name].append((at, error))
    lines = []
    for name, (kind, position) in kinds.items():
        count, last = activity.sent.get(name, (0, None))
        failed = failures[name]
        lines.append(
            GatewayHealth(
                name=name,
                kind=kind,
                position=position,
                deliveries=count,
                failures=len(failed),
                last_delivery_at=last,
                last_failure_at=failed[0][0] if failed else None,
                last_error=failed[0][1] if failed else None,
            )
        )
    return HealthReport(since, tuple(lines), len(activity.failed))


def errors_by_gateway(detail: str, names: Mapping[str, object]) -> dict[str, str]:
    """``main: HTTP 503; spare: timed out`` -> {main: HTTP 503, spare: timed out}; a part
    naming no known gateway continues the error before it (an error may hold ``; ``)."""
    found: dict[str, str] = {}
    current: str | None = None
    for part in detail.split("; "):
        match = _PART.fullmatch(part)
        if match is not None and match.group(1) in names:
            current = match.group(1)
            found[current] = match.group(2)
        elif current is not None:
            found[current] += "; " + part
    return found
