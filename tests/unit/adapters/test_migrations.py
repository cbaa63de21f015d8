"""Named migrations build exactly the schema in tables.py, and are reversible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from twostep.adapters.storage import migrate, tables
from twostep.adapters.storage.engine import make_engine
from twostep.config import Config
from twostep.domain.settings import TenantSettings

pytestmark = pytest.mark.usefixtures("backend")


def test_the_migrated_schema_matches_the_tables_module(config: Config) -> None:
    engine = make_engine(config.storage.database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_are_named_and_reversible(config: Config) -> None:
    engine = make_engine(config.storage.database_url)
    assert (
        migrate.current_revision(engine)
        == migrate.head_revision()
        == "0022_usage_rollups_by_result"
    )
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert {t.name for t in tables.metadata.sorted_tables} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_every_migration_file_is_named(tmp_path: Path) -> None:
    versions = Path(migrate.MIGRATIONS) / "versions"
    for path in versions.glob("*.py"):
        if path.name != "__init__.py":
            number, _, name = path.stem.partition("_")
            assert number.isdigit() and name, path.name


def test_two_way_sms_timeouts_above_the_new_ceiling_are_lowered(config: Config) -> None:
    """sms_reply_timeout allowed up to 3600 s before 0018 and 600 s since: a stored value
    above is lowered to 600, so the tenant's settings still load; others are kept."""
    engine = make_engine(config.storage.database_url)
    migrate.downgrade(engine, "0017_bypass_trusted_networks")
    with engine.begin() as conn:
        for name, timeout in (("long", 3600), ("short", 90)):
            conn.execute(
                tables.tenants.insert().values(
                    name=name, settings=json.dumps({"sms_reply_timeout": timeout}), created_at=0.0
                )
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(tables.tenants.c.name, tables.tenants.c.settings)).all())
    engine.dispose()
    assert TenantSettings.from_dict(json.loads(rows["long"])).phone.sms_reply_timeout == 600
    assert TenantSettings.from_dict(json.loads(rows["short"])).phone.sms_reply_timeout == 90
