"""The usage rollups: what the rollup job reads and writes, and the figures read from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from twostep.domain.usage import (
    Batch,
    CountryDeliveries,
    Dimension,
    Gap,
    RollupKey,
    RollupState,
    UsageCount,
)


class UsageRepo(Protocol):
    # The job (services/rollups.py).
    def state(self) -> RollupState: ...

    def events_after(self, seq: int, limit: int) -> Batch:
        """The visible events with a greater seq, the ``limit`` first by seq (read in
        one statement)."""
        ...

    def gaps(self, limit: int) -> Sequence[Gap]: ...

    def events_at(self, seqs: Sequence[int]) -> Batch:
        """The visible events among these seqs."""
        ...

    def advance(self, version: int, last_seq: int, now: float) -> bool:
        """Move the position to ``last_seq`` if it is still at ``version`` (one conditional
        statement); False: another round moved it first, do nothing more."""
        ...

    def add_counts(self, counts: Mapping[RollupKey, int]) -> None: ...

    def add_gaps(self, seqs: Sequence[int], now: float) -> None: ...

    def drop_gaps(self, seqs: Sequence[int]) -> None: ...

    def rebuild(self, gap_window: int, now: float) -> RollupState:
        """Recount everything from the raw events (in this transaction), up to the greatest
        visible seq; the missing seqs among the last ``gap_window`` below it become gaps."""
        ...

    # The figures.
    def counts(
        self, tenant_id: int | None, first_day: int, last_day: int, by: Sequence[Dimension]
    ) -> Sequence[UsageCount]:
        """Events of a tenant (None: of all) in the days ``first_day..last_day`` grouped by
        ``by``: the rollups plus the events not rolled up yet, read in one statement (one
        snapshot), so exact and current."""
        ...

    def scan_counts(
        self, tenant_id: int | None, first_day: int, last_day: int, by: Sequence[Dimension]
    ) -> Sequence[UsageCount]:
        """The same counts from the raw events alone (the rebuild's and the benchmark's
        baseline: a scan, never for a page)."""
        ...

    def locked_users(self, tenant_id: int | None, now: float) -> int: ...

    def pending_challenges(self, tenant_id: int | None, now: float) -> int: ...


class DeliveryCountRepo(Protocol):
    """Deliveries by tenant, UTC day, kind and destination country (delivery_rollups)."""

    def add(
        self,
        tenant_id: int,
        day: int,
        kind: str,
        country: str,
        *,
        sent: int,
        failed: int,
        segments: int,
    ) -> None:
        """Add to the day's cell (made if new), in the caller's transaction."""
        ...

    def by_country(
        self, tenant_id: int | None, first_day: int, last_day: int
    ) -> Sequence[CountryDeliveries]:
        """Sums over the days ``first_day..last_day`` of a tenant (None: of all), by
        country and kind."""
        ...

    def totals(self) -> Sequence[tuple[int, str, str, int, int, int]]:
        """Every tenant's sums over all days: (tenant_id, kind, country, sent, failed,
        segments), for the metrics."""
        ...
