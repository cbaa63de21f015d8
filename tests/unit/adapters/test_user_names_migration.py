"""Migration 0006_user_names: existing users get their lookup keys, and users whose names
would become one refuse the upgrade, naming them, with the database left as it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, text

from twostep.adapters.storage import migrate
from twostep.adapters.storage.engine import make_engine
from twostep.config import Config
from twostep.domain.errors import Conflict

pytestmark = pytest.mark.usefixtures("backend")

BEFORE = "0005_devices"


@pytest.fixture
def engine(config: Config) -> Iterator[Engine]:
    """The database at the revision before user name keys; back at head afterwards."""
    made = make_engine(config.storage.database_url)
    migrate.downgrade(made, BEFORE)
    yield made
    with made.begin() as conn:
        conn.execute(text("DELETE FROM users"))
        conn.execute(text("DELETE FROM tenants"))
    migrate.upgrade(made)
    made.dispose()


def add_users(engine: Engine, tenant: str, *names: str) -> None:
    with engine.begin() as conn:
        tenant_id = conn.execute(
            text(
                "INSERT INTO tenants (name, settings, created_at) VALUES (:n, '{}', 0) RETURNING id"
            ),
            {"n": tenant},
        ).scalar_one()
        for name in names:
            conn.execute(
                text(
                    "INSERT INTO users (tenant_id, name, mfa, failed_count, created_at) "
                    "VALUES (:t, :n, 'enabled', 0, 0)"
                ),
                {"t": tenant_id, "n": name},
            )


def keys(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {name: key for name, key in conn.execute(text("SELECT name, name_key FROM users"))}


def test_existing_users_get_their_keys_and_keep_their_names(engine: Engine) -> None:
    add_users(engine, "default", "Alice", "\uff22\uff2f\uff22", "jose\u0301", "carol smith")
    add_users(engine, "acme", "ALICE")  # another tenant: no clash
    migrate.upgrade(engine)
    assert keys(engine) == {
        "Alice": "alice",
        "\uff22\uff2f\uff22": "bob",  # created before the rule, stored as it was
        "jose\u0301": "jos\u00e9",
        "carol smith": "carol smith",
        "ALICE": "alice",
    }


def test_users_whose_names_would_become_one_stop_the_upgrade(engine: Engine) -> None:
    add_users(engine, "default", "Alice", "bob", "alice", "\uff41\uff4c\uff49\uff43\uff45")
    add_users(engine, "acme", "ALICE")
    with pytest.raises(Conflict) as refused:
        migrate.upgrade(engine)
    message = refused.value.message
    assert "tenant 'default': 'Alice' (id 1), 'alice' (id 3), '\uff41\uff4c\uff49\uff43\uff45'" in (
        message
    )
    assert "acme" not in message and "bob" not in message
    assert "Nothing was changed" in message and "twostep users delete" in message
    assert migrate.current_revision(engine) == BEFORE
    assert "name_key" not in {c["name"] for c in inspect(engine).get_columns("users")}

    with engine.begin() as conn:  # the operator removes the extra users, and upgrades
        conn.execute(text("DELETE FROM users WHERE id IN (3, 4)"))
    migrate.upgrade(engine)
    assert keys(engine) == {"Alice": "alice", "bob": "bob", "ALICE": "alice"}


def test_the_upgrade_is_reversible_with_users_in_place(engine: Engine) -> None:
    add_users(engine, "default", "Alice", "bob")
    migrate.upgrade(engine)
    migrate.downgrade(engine, BEFORE)
    assert "name_key" not in {c["name"] for c in inspect(engine).get_columns("users")}
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT name FROM users")).scalars()) == ["Alice", "bob"]
