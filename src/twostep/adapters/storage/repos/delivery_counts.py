"""Deliveries by destination country in SQL: one upsert per delivery's outcome, sums for
the reports and the metrics (the table is small: a row per tenant, day, kind, country)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite

from twostep.adapters.storage.tables import delivery_rollups
from twostep.domain.usage import CountryDeliveries

d = delivery_rollups.c


class SqlDeliveryCountRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(delivery_rollups).values(
            tenant_id=tenant_id,
            day=day,
            kind=kind,
            country=country,
            sent=sent,
            failed=failed,
            segments=segments,
        )
        new = statement.excluded
        self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=list(delivery_rollups.primary_key.columns),
                set_={
                    "sent": d.sent + new.sent,
                    "failed": d.failed + new.failed,
                    "segments": d.segments + new.segments,
                },
            )
        )

    def by_country(
        self, tenant_id: int | None, first_day: int, last_day: int
    ) -> Sequence[CountryDeliveries]:
        stmt = (
            select(d.country, d.kind, func.sum(d.sent), func.sum(d.failed), func.sum(d.segments))
            .where(d.day >= first_day, d.day <= last_day)
            .group_by(d.country, d.kind)
        )
        if tenant_id is not None:
            stmt = stmt.where(d.tenant_id == tenant_id)
        return [
            CountryDeliveries(country, kind, int(sent), int(failed), int(segments))
            for country, kind, sent, failed, segments in self.conn.execute(stmt)
        ]

    def totals(self) -> Sequence[tuple[int, str, str, int, int, int]]:
        stmt = select(
            d.tenant_id,
            d.kind,
            d.country,
            func.sum(d.sent),
            func.sum(d.failed),
            func.sum(d.segments),
        ).group_by(d.tenant_id, d.kind, d.country)
        return [
            (int(t), kind, country, int(s), int(f), int(g))
            for t, kind, country, s, f, g in self.conn.execute(stmt)
        ]
