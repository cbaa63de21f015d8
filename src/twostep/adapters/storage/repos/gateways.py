"""A tenant's gateways: settings as JSON, credentials sealed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from twostep.adapters.storage.tables import audit_events, gateways
from twostep.domain.ports.gateways import GatewayActivity, GatewayRecord

g = gateways.c
a = audit_events.c
SENT_BY = "sent by "  # the detail of a sign-in whose text, call or email a gateway took


def _record(row: Any) -> GatewayRecord:
    return GatewayRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        kind=row.kind,
        position=row.position,
        settings=json.loads(row.settings),
        sealed_secrets=row.secrets,
        created_at=row.created_at,
    )


class SqlGatewayRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, gateway: GatewayRecord) -> None:
        self.conn.execute(
            insert(gateways).values(
                id=gateway.id,
                tenant_id=gateway.tenant_id,
                name=gateway.name,
                kind=gateway.kind,
                position=gateway.position,
                settings=json.dumps(dict(gateway.settings), sort_keys=True),
                secrets=gateway.sealed_secrets,
                created_at=gateway.created_at,
            )
        )

    def for_tenant(self, tenant_id: int) -> Sequence[GatewayRecord]:
        rows = self.conn.execute(
            select(gateways).where(g.tenant_id == tenant_id).order_by(g.position, g.created_at)
        )
        return [_record(row) for row in rows]

    def by_id(self, gateway_id: str) -> GatewayRecord | None:
        row = self.conn.execute(select(gateways).where(g.id == gateway_id)).first()
        return None if row is None else _record(row)

    def delete(self, gateway_id: str) -> None:
        self.conn.execute(delete(gateways).where(g.id == gateway_id))

    def replace_settings(
        self, gateway_id: str, settings: Mapping[str, object], sealed_secrets: bytes | None
    ) -> None:
        self.conn.execute(
            update(gateways)
            .where(g.id == gateway_id)
            .values(settings=json.dumps(dict(settings), sort_keys=True), secrets=sealed_secrets)
        )

    def activity(self, tenant_id: int, since: float, limit: int) -> GatewayActivity:
        recent = (a.tenant_id == tenant_id, a.at >= since)
        sent = self.conn.execute(
            select(a.detail, func.count(), func.max(a.at))
            .where(*recent, a.detail.like(SENT_BY + "%"))
            .group_by(a.detail)
        ).all()
        failed = self.conn.execute(
            select(a.at, a.detail)
            .where(*recent, a.reason == "delivery_failed")
            .order_by(a.at.desc())
            .limit(limit)
        ).all()
        return GatewayActivity(
            sent={row[0].removeprefix(SENT_BY): (int(row[1]), float(row[2])) for row in sent},
            failed=[(float(row.at), row.detail or "") for row in failed],
        )
