"""Usage counts: audit events counted by UTC day and by what the reports group by.

A day is a UTC calendar day, numbered as epoch seconds // 86400 (``day_of``), so day 0 is
1970-01-01; every store computes it the same way (division, then truncation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SECONDS_PER_DAY = 86400

# What a count may be grouped by, beyond the tenant.
Dimension = Literal["day", "integration", "interface", "method", "result", "reason"]
DIMENSIONS: tuple[Dimension, ...] = (
    "day",
    "integration",
    "interface",
    "method",
    "result",
    "reason",
)


def day_of(at: float) -> int:
    """The UTC day of an epoch time (non-negative), as the stores compute it."""
    return int(at / SECONDS_PER_DAY)


@dataclass(frozen=True, slots=True)
class RollupKey:
    """One cell of the rollup: what one audit event adds 1 to. ``""`` stands for a null
    (no method chosen, no reason, no integration) in the store."""

    tenant_id: int
    day: int
    integration: str
    interface: str
    method: str
    result: str
    reason: str


@dataclass(frozen=True, slots=True)
class Batch:
    """What the rollup job read of some audit events: their seqs (ascending) and what
    they add to each cell of the rollup."""

    seqs: list[int]
    counts: dict[RollupKey, int]


@dataclass(frozen=True, slots=True)
class RollupState:
    """Where the job stands: every event with ``seq <= last_seq`` is counted, but the
    gaps'. ``version`` 0: the job never ran (no row yet)."""

    last_seq: int
    version: int


@dataclass(frozen=True, slots=True)
class Gap:
    """A seq at or below ``last_seq`` not visible when the job passed it, since ``seen_at``."""

    seq: int
    seen_at: float


@dataclass(frozen=True, slots=True)
class UsageCount:
    """A count of audit events, rolled up and not yet rolled up alike. Only the grouped
    dimensions are set; a null one (``None``) is a null in the events."""

    events: int
    day: int | None = None
    integration: str | None = None
    interface: str | None = None
    method: str | None = None
    result: str | None = None
    reason: str | None = None


UNKNOWN_COUNTRY = "ZZ"  # ISO 3166's user-assigned code for "unknown": an email, a bad number


@dataclass(frozen=True, slots=True)
class CountryDeliveries:
    """Texts, calls or emails of one kind to one destination country over a range of days:
    ``sent`` a gateway took, ``failed`` every gateway refused (the cost drivers per
    country). ``country`` is ISO 3166 alpha-2, or ``UNKNOWN_COUNTRY``."""

    country: str
    kind: str
    sent: int
    failed: int
    segments: int = 0  # SMS parts charged (a text's length); 0 for calls and emails
