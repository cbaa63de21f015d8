"""The validation read by an integration key: the key's integration, its tenant (or the
one named), the user and their methods come in one statement; the caller checks the
secret against the hash it carries."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import builders
from twostep.bootstrap import App
from twostep.domain.ports.subjects import Keyed
from twostep.services.admin import OPERATOR
from twostep.services.credentials import split_key

BOTH = pytest.mark.usefixtures("backend")  # without it: SQLite only


@pytest.fixture
def key_id(app: App) -> str:
    builders.enrolled_user(app, "Alice")
    app.admin.create_tenant(OPERATOR, "other")
    builders.user(app, "bob", tenant="other")
    builders.token(app, "bob", tenant="other")
    _, key = builders.integration(app)
    parts = split_key(key, "tsi")
    assert parts is not None
    return parts[0]


def read(app: App, user: str, key_id: str, **named: Any) -> Keyed | None:
    with app.storage.transaction() as tx:
        return tx.subjects.load_by_key(user, key_id, **named)


@BOTH
def test_the_key_brings_its_integration_tenant_user_and_methods(app: App, key_id: str) -> None:
    keyed = read(app, "alice", key_id)  # any variant of the name reaches the user
    assert keyed is not None and keyed.subject is not None
    assert keyed.integration.key_id == key_id and keyed.integration.name == "vpn"
    assert len(keyed.key_hash) == 32  # the stored SHA-256, for the caller's check
    subject = keyed.subject
    assert subject.tenant.name == "default" and subject.tenant.id == keyed.integration.tenant_id
    assert subject.user is not None and subject.user.name == "Alice"
    [method] = subject.methods
    assert set(subject.sealed) == {method.id}
    assert not subject.integration_pending


@BOTH
def test_an_unknown_user_is_a_subject_without_a_user(app: App, key_id: str) -> None:
    keyed = read(app, "nobody", key_id)
    assert keyed is not None and keyed.subject is not None
    assert keyed.subject.user is None and keyed.subject.methods == ()


@BOTH
def test_a_named_tenant_is_read_in_the_same_statement(app: App, key_id: str) -> None:
    keyed = read(app, "bob", key_id, tenant_name="other")
    assert keyed is not None and keyed.subject is not None
    assert keyed.subject.tenant.name == "other"  # the caller refuses another tenant's user
    assert keyed.subject.tenant.id != keyed.integration.tenant_id
    assert keyed.subject.user is not None and keyed.subject.user.name == "bob"
    missing = read(app, "bob", key_id, tenant_name="nowhere")
    assert missing is not None and missing.integration.key_id == key_id
    assert missing.subject is None


@BOTH
def test_an_unknown_key_id_reads_nothing(app: App, key_id: str) -> None:
    assert read(app, "alice", "0" * 16) is None
    assert read(app, "alice", "0" * 16, tenant_name="default") is None


def test_it_is_one_statement(app: App, key_id: str) -> None:
    """Counted with SQLite's statement trace (the SQL is the same on PostgreSQL)."""
    statements: list[str] = []
    with app.storage.transaction() as tx:
        driver = tx.conn.connection.driver_connection
        driver.set_trace_callback(statements.append)
        try:
            tx.subjects.load_by_key("alice", key_id)
        finally:
            driver.set_trace_callback(None)
    assert len(statements) == 1 and statements[0].startswith("SELECT")
