"""Enrollment links and "not me" reports (the self-service portal's stores,
domain/ports/self_service.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from twostep.adapters.storage.repos.audit import _event as audit_event
from twostep.adapters.storage.tables import audit_events, enrollment_links, signin_reports
from twostep.domain.audit import AuditEvent
from twostep.domain.self_service import EnrollmentLink, SignInReport

_l = enrollment_links.c
_r = signin_reports.c
_MAX_IDS = 500  # event ids asked about at once (a page shows far fewer)


def _link(row: Any) -> EnrollmentLink:
    return EnrollmentLink(
        id=row.id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        created_by=row.created_by,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )


class SqlEnrollmentLinkRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, link: EnrollmentLink, token_hash: str) -> None:
        self.conn.execute(
            enrollment_links.insert().values(
                id=link.id,
                tenant_id=link.tenant_id,
                user_id=link.user_id,
                token_hash=token_hash,
                created_at=link.created_at,
                expires_at=link.expires_at,
                created_by=link.created_by,
            )
        )

    def by_token(self, token_hash: str) -> EnrollmentLink | None:
        row = self.conn.execute(select(enrollment_links).where(_l.token_hash == token_hash)).first()
        return None if row is None else _link(row)

    def for_user(self, user_id: int) -> Sequence[EnrollmentLink]:
        rows = self.conn.execute(
            select(enrollment_links)
            .where(_l.user_id == user_id)
            .order_by(_l.created_at.desc(), _l.id)
        )
        return [_link(r) for r in rows]

    def use(self, link_id: str, now: float) -> bool:
        # One statement: of two requests spending the same link, the database picks one.
        won = self.conn.execute(
            update(enrollment_links)
            .where(
                _l.id == link_id,
                _l.used_at.is_(None),
                _l.revoked_at.is_(None),
                _l.expires_at > now,
            )
            .values(used_at=now)
        ).rowcount
        return bool(won == 1)

    def revoke_open(self, user_id: int, now: float) -> int:
        done = self.conn.execute(
            update(enrollment_links)
            .where(_l.user_id == user_id, _l.used_at.is_(None), _l.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount
        return int(done)


class SqlSignInReportRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def event(self, tenant_id: int, user_name: str, event_id: str) -> AuditEvent | None:
        c = audit_events.c
        row = self.conn.execute(
            select(audit_events).where(
                c.event_id == event_id, c.tenant_id == tenant_id, c.user_name == user_name
            )
        ).first()
        return None if row is None else audit_event(row)

    def add(self, report: SignInReport) -> bool:
        # One statement: a report sent twice at once is recorded once.
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(signin_reports)
            .values(
                event_id=report.event_id,
                tenant_id=report.tenant_id,
                user_id=report.user_id,
                reported_at=report.reported_at,
                client_ip=report.client_ip,
            )
            .on_conflict_do_nothing()
            .returning(_r.event_id)  # a row back: this insert won
        )
        return self.conn.execute(statement).first() is not None

    def reported(self, event_ids: Sequence[str]) -> set[str]:
        wanted = list(event_ids)[:_MAX_IDS]
        if not wanted:
            return set()
        rows = self.conn.execute(select(_r.event_id).where(_r.event_id.in_(wanted)))
        return {r.event_id for r in rows}
