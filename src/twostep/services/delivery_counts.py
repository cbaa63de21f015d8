"""Counting a delivery's outcome by destination country (delivery_rollups), in the
transaction that records the outcome: the counts and the audit log agree, whatever fails."""

from __future__ import annotations

from typing import Protocol

from twostep.domain.ports.usage import DeliveryCountRepo
from twostep.domain.sms import country_of
from twostep.domain.usage import day_of


class CountWork(Protocol):
    @property
    def delivery_counts(self) -> DeliveryCountRepo: ...


def count_delivery(
    tx: CountWork,
    tenant_id: int,
    kind: str,
    destination: str | None,
    at: float,
    *,
    segments: int | None,
) -> None:
    """One delivery of ``kind`` to ``destination``: sent, with ``segments`` SMS parts (0 for
    a call or an email), or failed (``segments`` None: every gateway refused it)."""
    tx.delivery_counts.add(
        tenant_id,
        day_of(at),
        kind,
        country_of(destination),
        sent=0 if segments is None else 1,
        failed=1 if segments is None else 0,
        segments=segments or 0,
    )
