"""Named migrations build exactly the schema in tables.py, and are reversible."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from twostep.adapters.storage import migrate, tables
from twostep.adapters.storage.engine import make_engine
from twostep.config import Config

pytestmark = pytest.mark.usefixtures("backend")


def test_the_migrated_schema_matches_the_tables_module(config: Config) -> None:
    engine = make_engine(config.storage.database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_are_named_and_reversible(config: Config) -> None:
    engine = make_engine(config.storage.database_url)
    assert migrate.current_revision(engine) == migrate.head_revision() == "0016_delivery_rollups"
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
