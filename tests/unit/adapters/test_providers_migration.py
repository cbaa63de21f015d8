"""Migration 0015_providers_billing: integrations made before stay activated, and per-user
billing's history starts with every existing user as they are."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from twostep.adapters.storage import migrate
from twostep.adapters.storage.engine import make_engine
from twostep.config import Config

pytestmark = pytest.mark.usefixtures("backend")

BEFORE = "0014_self_service"


@pytest.fixture
def engine(config: Config) -> Iterator[Engine]:
    made = make_engine(config.storage.database_url)
    migrate.downgrade(made, BEFORE)
    yield made
    with made.begin() as conn:
        for table in ("billing_user_states", "integrations", "users", "tenants"):
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
    migrate.upgrade(made)
    made.dispose()


def test_existing_users_are_recorded_and_integrations_stay_activated(engine: Engine) -> None:
    with engine.begin() as conn:
        tenant = conn.execute(
            text(
                "INSERT INTO tenants (name, settings, created_at) "
                "VALUES ('t', '{}', 0) RETURNING id"
            )
        ).scalar_one()
        for name, mfa, at in (("alice", "enabled", 10.0), ("bob", "disabled", 20.0)):
            conn.execute(
                text(
                    "INSERT INTO users (tenant_id, name, name_key, mfa, failed_count, created_at) "
                    "VALUES (:t, :n, :n, :m, 0, :at)"
                ),
                {"t": tenant, "n": name, "m": mfa, "at": at},
            )
        conn.execute(
            text(
                "INSERT INTO integrations (tenant_id, name, key_id, key_hash, created_at, legacy) "
                "VALUES (:t, 'vpn', 'k', :h, 0, false)"
            ),
            {"t": tenant, "h": b"\0" * 32},
        )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        states = conn.execute(
            text("SELECT user_name, mfa, licensed, at FROM billing_user_states ORDER BY user_name")
        ).all()
        pending = conn.execute(text("SELECT pending_since FROM integrations")).scalar_one()
    assert [tuple(s) for s in states] == [
        ("alice", "enabled", False, 10.0),
        ("bob", "disabled", False, 20.0),
    ]
    assert pending is None
