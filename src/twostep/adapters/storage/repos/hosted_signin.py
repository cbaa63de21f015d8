"""Hosted sign-in: integrations' signing secrets and return URLs, and the jtis of their
requests and results (one-time use decided by the database)."""

from __future__ import annotations

import json

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from twostep.adapters.storage.tables import signin_settings, signin_tokens
from twostep.domain.ports.hosted_signin import SigninSettings, TokenKind

_s = signin_settings.c
_t = signin_tokens.c


class SqlSigninRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def settings(self, integration_id: int) -> SigninSettings | None:
        row = self.conn.execute(
            select(signin_settings).where(_s.integration_id == integration_id)
        ).first()
        if row is None:
            return None
        return SigninSettings(
            integration_id=row.integration_id,
            return_urls=tuple(json.loads(row.return_urls)),
            sealed_secret=None if row.secret is None else bytes(row.secret),
            secret_issued_at=row.secret_issued_at,
        )

    def _upsert(self, integration_id: int, now: float, **values: object) -> None:
        changed = self.conn.execute(
            update(signin_settings)
            .where(_s.integration_id == integration_id)
            .values(updated_at=now, **values)
        ).rowcount
        if not changed:
            self.conn.execute(
                insert(signin_settings).values(
                    integration_id=integration_id, updated_at=now, **values
                )
            )

    def set_return_urls(self, integration_id: int, urls: list[str], now: float) -> None:
        self._upsert(integration_id, now, return_urls=json.dumps(urls))

    def set_secret(self, integration_id: int, sealed: bytes, now: float) -> None:
        self._upsert(integration_id, now, secret=sealed, secret_issued_at=now)

    def record(self, integration_id: int, kind: TokenKind, jti: str, expires_at: float) -> bool:
        # One statement: the database decides between two nodes starting the same request.
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(signin_tokens)
            .values(integration_id=integration_id, kind=kind.value, jti=jti, expires_at=expires_at)
            .on_conflict_do_nothing()
            .returning(_t.jti)  # a row back: this insert won (rowcount is not portable here)
        )
        return self.conn.execute(statement).first() is not None

    def redeem(self, integration_id: int, jti: str, now: float) -> bool | None:
        mine = (_t.integration_id == integration_id) & (_t.kind == TokenKind.RESULT.value)
        won = self.conn.execute(
            update(signin_tokens)
            .where(mine, _t.jti == jti, _t.expires_at > now, _t.redeemed_at.is_(None))
            .values(redeemed_at=now)
        ).rowcount
        if won:
            return True
        found = self.conn.execute(
            select(_t.redeemed_at).where(mine, _t.jti == jti, _t.expires_at > now)
        ).first()
        return None if found is None else False

    def sweep(self, before: float) -> int:  # expired: a row is refused from its expires_at
        return self.conn.execute(delete(signin_tokens).where(_t.expires_at <= before)).rowcount
