"""Fixtures: the app wired over SQLite or a real PostgreSQL server, with a fake clock.

Tests that take the ``backend`` fixture run once per database engine. Without a
PostgreSQL server the PostgreSQL runs are skipped on a developer machine and fail
in CI (CI=true), where .ci/run installs it. The same holds for OpenLDAP's slapd
(the ``slapd`` fixture).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.support import postgres
from tests.support.fakes import FakeClock
from tests.support.slapd import SlapdServer, SlapdTree
from twostep.adapters.storage import migrate, tables
from twostep.adapters.storage.engine import make_engine
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.entities import AdminKey, Role
from twostep.services.admin import OPERATOR

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(component: str) -> None:
    """Skip for a missing component, except in CI where it is a failure."""
    if IN_CI:
        pytest.fail(f"{component} is required in CI", pytrace=False)
    pytest.skip(f"{component} not installed")


# `make test` runs the suite on two xdist workers (-n 2). The tests that start servers,
# processes or a browser are one unit of work that one worker runs one at a time, as
# before: the race tests count outcomes under the load they make themselves, and two of
# them at once on two cores would measure each other. The in-process tests go to
# whichever worker is free. (xdist's own loadgroup marks are ignored under pytest 9,
# whose node ids it can no longer rewrite, hence this scheduler.)
PROCESS_DIRS = ("tests/e2e/", "tests/browser/")
PROCESS_FILES = (  # marked slow outside those places, or timed against a server's thread
    "tests/integration/http/test_forwarded_for.py",
    "tests/integration/radius/test_serve_one_nas.py",
    "tests/integration/directory/test_binds.py",  # a hung server against the bind timeouts
)


def starts_processes(nodeid: str) -> bool:
    path = nodeid.split("::", 1)[0]
    at_top_of_integration = path.startswith("tests/integration/") and path.count("/") == 2
    return path.startswith(PROCESS_DIRS) or path in PROCESS_FILES or at_top_of_integration


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class ProcessesApart(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return "processes" if starts_processes(nodeid) else nodeid

    return ProcessesApart(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked slow must be one the scheduler keeps apart."""
    for item in items:
        if item.get_closest_marker("slow") is not None and not starts_processes(item.nodeid):
            raise pytest.UsageError(
                f"{item.nodeid} is marked slow: add its file to PROCESS_FILES in "
                "tests/conftest.py so that it runs apart from the other slow tests"
            )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.PostgresServer | None]:
    try:
        server = postgres.start()
    except FileNotFoundError:
        yield None
        return
    try:
        server.psql("CREATE DATABASE twostep_test")
        engine = make_engine(server.url("twostep_test"))
        migrate.upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def slapd_server() -> Iterator[SlapdServer | None]:
    try:
        server = SlapdServer.create()
    except FileNotFoundError:
        yield None
        return
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def slapd(slapd_server: SlapdServer | None) -> Iterator[SlapdTree]:
    """A real OpenLDAP slapd on 127.0.0.1 (one per session, its own config, ports and CA;
    never the system's) and a subtree of its own for this test, ``slapd.root_dn``.

    Reading it (the reader account, with the CA, over security ldaps|starttls|plain):
      ``slapd.ldap_settings(kind="ldap"|"active_directory", security="starttls",
      **DirectorySettings fields) -> DirectorySettings`` (bind_password included), and
      ``slapd.url(security)``, ``slapd.ca_file``, ``slapd.server.other_ca_file`` (a CA that
      signed nothing here), ``slapd.people_dn``, ``slapd.groups_dn``.
    Every entry is both an ``inetOrgPerson`` and an AD ``user`` (sAMAccountName,
    userPrincipalName, userAccountControl, uSNChanged, objectGUID, objectCategory=person),
    so both kinds' default filters find the same users.
    Changing it as an admin would (each change bumps uSNChanged as AD does; slapd keeps
    modifyTimestamp, entryUUID and memberOf):
      ``add_user(name, *, first_name, last_name, email, phone, mobile, password, upn,
      disabled=False, groups=(), **ldap_attributes) -> LdapUser`` (dn, password, guid,
      object_guid: the AD kind's external id, upn: the default user_id, ...);
      ``slapd.entry_uuid(user)`` (the LDAP kind's external id);
      ``modify_user(user, **ldap_attributes)`` (None removes one); ``set_disabled(user,
      disabled=True)``; ``set_password(user, pw) -> LdapUser``; ``rename_user(user,
      new_name=None, *, parent_dn=None) -> LdapUser``; ``add_ou(name) -> dn``;
      ``delete_user(user)``; ``add_group(name, members=()) -> LdapGroup``;
      ``add_to_group(user, group)``, ``remove_from_group(user, group)`` (they bump the
      group's uSNChanged, not the member's, as AD does); ``bulk_users(n, *, prefix="user",
      groups=()) -> list[LdapUser]`` (offline slapadd: ~1 s for 10,000).
    The server: ``stop()``/``start()`` (nothing listening), ``pause()``/``resume()`` (a
    hung server: connections open, no answer). It is running again after every test.
    """
    if slapd_server is None:
        missing("OpenLDAP slapd")
    tree = slapd_server.new_tree()
    try:
        yield tree
    finally:
        slapd_server.ensure_running()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "twostep.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    # Tests that ask for ``backend`` run on both engines; the rest on SQLite.
    kind = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    if kind == "postgres":
        server = request.getfixturevalue("pg_server")
        if server is None:
            missing("PostgreSQL")
        url = server.url("twostep_test")
        engine = make_engine(url)
        with engine.begin() as conn:
            names = ", ".join(t.name for t in tables.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return url
    path = tmp_path / "twostep.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return Config.from_env(
        {
            "TWOSTEP_HOME": str(tmp_path / "home"),
            "TWOSTEP_DATABASE_URL": database_url,
            "TWOSTEP_SECRET_KEY": secrets.token_hex(32),
            "TWOSTEP_NODE_NAME": "node-a",
            "TWOSTEP_NODE_IP": "192.0.2.10",
        }
    )


@pytest.fixture
def app(config: Config, clock: FakeClock) -> Iterator[App]:
    wired = build(config, clock=clock)
    wired.admin.ensure_default_tenant()
    yield wired
    wired.close()


@pytest.fixture
def operator() -> AdminKey:
    return OPERATOR


@pytest.fixture
def tenant_admin_role() -> Role:
    return Role.TENANT_ADMIN
