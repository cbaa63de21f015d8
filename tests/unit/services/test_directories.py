"""Managing directories: the bind password sealed and never answered, settings checked and
changed by any subset, a tenant's directories for its own admins only, the connection
test, deletion that keeps the users, the admin trail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.directories import FakeDirectory, entry
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.admin_events import AdminEventQuery
from twostep.domain.entities import Role
from twostep.domain.errors import (
    DirectoryExists,
    DirectoryNotFound,
    DirectoryUnavailable,
    Forbidden,
    InvalidInput,
    InvalidSetting,
    SyncRunning,
    TenantNotFound,
)
from twostep.domain.sealing import directory_context
from twostep.services.admin import OPERATOR
from twostep.services.directories import DirectoryAdmin
from twostep.services.directory_sync import DirectorySync
from twostep.services.leases import directory_lease

pytestmark = pytest.mark.usefixtures("backend")

SETTINGS: dict[str, Any] = {
    "urls": ["ldaps://dc1.example.com", "ldaps://dc2.example.com"],
    "security": "ldaps",
    "bind_dn": "CN=reader,OU=Service,DC=example,DC=com",
    "bind_password": "reader-password",
    "base_dn": "DC=example,DC=com",
    "mfa_group": "CN=MFA Users,OU=Groups,DC=example,DC=com",
}


@pytest.fixture
def ldap() -> FakeDirectory:
    return FakeDirectory()


@pytest.fixture
def directories(app: App, ldap: FakeDirectory) -> DirectoryAdmin:
    return DirectoryAdmin(app.deps, ldap)


def test_the_bind_password_is_sealed_and_never_answered(
    app: App, directories: DirectoryAdmin
) -> None:
    added = directories.add(OPERATOR, "default", "corp", SETTINGS)
    assert added.bind_password_set and added.directory.settings.bind_password is None
    [listed] = directories.list(OPERATOR, "default")
    assert listed.bind_password_set and listed.directory.settings.bind_password is None
    assert "reader-password" not in repr(listed)
    with app.storage.transaction() as tx:
        sealed = tx.directories.sealed_password(added.directory.id)
        [value] = [v for v in tx.sealed.each() if v.place == "directories.secrets"]
    assert sealed is not None and b"reader-password" not in sealed
    assert value.context == directory_context(added.directory.id)
    assert app.deps.secrets.open(sealed, value.context) == b"reader-password"
    reader = directories.reader(added.directory.id)
    assert reader is not None and reader.password == "reader-password"
    [event] = _events(app, "directory.add")
    assert event.changes["bind_password"] == [None, "***"]
    assert "reader-password" not in str(event.changes)


def test_names_and_settings_are_checked(directories: DirectoryAdmin) -> None:
    directories.add(OPERATOR, "default", "corp", SETTINGS)
    with pytest.raises(DirectoryExists):
        directories.add(OPERATOR, "default", "corp", SETTINGS)
    with pytest.raises(InvalidInput) as bad_name:
        directories.add(OPERATOR, "default", "no spaces", SETTINGS)
    assert bad_name.value.field == "name"
    for change, field in (
        ({"urls": ["http://dc1"]}, "urls"),
        ({"sync_interval": -1}, "sync_interval"),
        ({"phone_methods": ["email"]}, "phone_methods.0"),
        ({"unknown": 1}, "unknown"),
        ({"attributes": {"email": "mail address"}}, "attributes.email"),
    ):
        with pytest.raises(InvalidSetting) as refused:
            directories.add(OPERATOR, "default", "other", {**SETTINGS, **change})
        assert refused.value.field == field


def test_plain_ldap_only_on_loopback(directories: DirectoryAdmin) -> None:
    plain = {**SETTINGS, "security": "plain", "urls": ["ldap://dc1.example.com"]}
    with pytest.raises(InvalidSetting) as refused:
        directories.add(OPERATOR, "default", "corp", plain)
    assert refused.value.field == "security"
    for n, url in enumerate(("ldap://127.0.0.1:3389", "ldap://localhost", "ldap://[::1]:389")):
        directories.add(OPERATOR, "default", f"local{n}", {**plain, "urls": [url]})


def test_a_ca_file_is_a_global_admins_choice(
    app: App, directories: DirectoryAdmin, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(InvalidSetting):
        directories.add(OPERATOR, "default", "corp", {**SETTINGS, "ca_file": str(tmp_path / "x")})
    directories.add(OPERATOR, "default", "corp", {**SETTINGS, "ca_file": str(ca)})
    admin, _key = app.admin.create_admin_key(OPERATOR, "ops", Role.TENANT_ADMIN, "default")
    with pytest.raises(Forbidden):
        directories.add(admin, "default", "other", {**SETTINGS, "ca_file": str(ca)})
    # The tenant's admin may change the rest of a directory whose CA file the operator set.
    changed = directories.update(admin, "default", "corp", {"sync_interval": 600})
    assert changed.directory.settings.ca_file == str(ca)


def test_any_subset_of_the_settings_changes(app: App, directories: DirectoryAdmin) -> None:
    added = directories.add(OPERATOR, "default", "corp", SETTINGS)
    with app.storage.transaction(write=True) as tx:
        tx.directories.finish_sync(added.directory.id, "12345", 1.0)
    quiet = directories.update(OPERATOR, "default", "corp", {"sync_interval": 0})
    assert quiet.directory.settings.sync_interval == 0
    assert quiet.directory.sync_cursor == "12345"  # the scope is the same
    assert quiet.directory.settings.mfa_group == SETTINGS["mfa_group"]
    scoped = directories.update(
        OPERATOR, "default", "corp", {"attributes": {"email": "proxyAddresses"}}
    )
    attributes = scoped.directory.settings.attributes
    assert attributes.email == "proxyAddresses" and attributes.mobile == "mobile"  # merged
    assert scoped.directory.sync_cursor is None  # the next sync is a full one
    assert scoped.bind_password_set
    [event] = _events(app, "directory.update")[-1:]
    assert "bind_password" not in event.changes
    cleared = directories.update(OPERATOR, "default", "corp", {"bind_password": None})
    assert not cleared.bind_password_set
    renewed = directories.update(OPERATOR, "default", "corp", {"bind_password": "new-one"})
    assert renewed.bind_password_set
    assert _events(app, "directory.update")[-1].changes["bind_password"] == [None, "***"]
    reader = directories.reader(added.directory.id)
    assert reader is not None and reader.password == "new-one"  # the cache was dropped
    with pytest.raises(InvalidSetting):
        directories.update(OPERATOR, "default", "corp", {"base_dn": ""})
    with pytest.raises(DirectoryNotFound):
        directories.update(OPERATOR, "default", "nope", {"sync_interval": 0})


def test_a_tenant_admin_manages_only_their_tenants_directories(
    app: App, directories: DirectoryAdmin
) -> None:
    directories.add(OPERATOR, "default", "corp", SETTINGS)
    app.admin.create_tenant(OPERATOR, "acme")
    acme, _key = app.admin.create_admin_key(OPERATOR, "acme-admin", Role.TENANT_ADMIN, "acme")
    directories.add(acme, "acme", "acme-ad", SETTINGS)
    assert [v.directory.name for v in directories.list(acme, "acme")] == ["acme-ad"]
    for call in (
        lambda: directories.list(acme, "default"),
        lambda: directories.get(acme, "default", "corp"),
        lambda: directories.delete(acme, "default", "corp"),
        lambda: directories.test(acme, "default", "corp"),
    ):
        with pytest.raises(TenantNotFound):
            call()


def test_the_connection_test_counts_the_users_in_scope(
    directories: DirectoryAdmin, ldap: FakeDirectory
) -> None:
    directories.add(OPERATOR, "default", "corp", SETTINGS)
    ldap.put(*(entry(f"user{i}@example.com") for i in range(4)))
    ldap.hide("uuid-user0")
    assert directories.test(OPERATOR, "default", "corp").users_in_scope == 3
    assert ldap.passwords == ["reader-password"]
    ldap.down = True
    with pytest.raises(DirectoryUnavailable, match="connection refused"):
        directories.test(OPERATOR, "default", "corp")


def test_deleting_a_directory_keeps_its_users(
    app: App, directories: DirectoryAdmin, ldap: FakeDirectory, clock: FakeClock
) -> None:
    added = directories.add(OPERATOR, "default", "corp", SETTINGS)
    ldap.put(entry("alice@example.com"))
    DirectorySync(app.deps, ldap).sync(OPERATOR, "default", "corp")
    running = directory_lease(app.deps, added.directory.id)
    assert running.take()
    with pytest.raises(SyncRunning):
        directories.delete(OPERATOR, "default", "corp")
    running.release()
    directories.delete(OPERATOR, "default", "corp")
    assert directories.list(OPERATOR, "default") == []
    alice = app.admin.get_user(OPERATOR, "default", "alice@example.com")
    assert (alice.directory_id, alice.external_id, alice.dn) == (None, None, None)
    assert directories.reader(added.directory.id) is None
    assert [e.target for e in _events(app, "directory.delete")] == ["corp"]


def _events(app: App, action: str) -> list[Any]:
    tenant = app.admin.get_tenant(OPERATOR, "default")
    with app.storage.transaction() as tx:
        return list(tx.admin_events.query(AdminEventQuery(tenant_id=tenant.id, action=action)))
