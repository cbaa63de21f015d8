"""Directory syncs end to end: the wired app (its LDAP connector) against a real OpenLDAP
slapd with an Active Directory-like schema, over StartTLS with the test CA, on SQLite and
PostgreSQL. What a sync takes, what an incremental one reads, who it disables and why,
and a directory that is down."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import builders
from tests.support.slapd import SlapdTree
from twostep.bootstrap import App
from twostep.domain.directory import DirectorySettings
from twostep.domain.entities import DisabledReason, User
from twostep.domain.errors import DirectoryUnavailable
from twostep.interfaces.http.app import create_app
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")


def add(app: App, settings: DirectorySettings, name: str = "corp", **changes: Any) -> None:
    values = settings.model_dump(mode="json", exclude={"bind_password"})
    assert settings.bind_password is not None
    values["bind_password"] = settings.bind_password.get_secret_value()
    app.directories.add(OPERATOR, "default", name, {**values, **changes})


def user(app: App, name: str) -> User:
    return app.admin.get_user(OPERATOR, "default", name)


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app), raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_active_directory_sync_takes_the_mfa_groups_members(app: App, slapd: SlapdTree) -> None:
    alice = slapd.add_user("alice", mobile="+1 415 555 0123", phone="+14155550999")
    bob = slapd.add_user("bob", phone="+44 20 7946 0958", mobile=None)
    carol = slapd.add_user("carol", disabled=True)
    slapd.add_user("outsider")
    group = slapd.add_group("MFA Users", [alice, bob, carol])
    add(app, slapd.ldap_settings(kind="active_directory", mfa_group=group.dn))
    report = app.directory_sync.sync(OPERATOR, "default", "corp")
    assert report.full and report.counts.seen == 3 and report.counts.created == 3
    assert report.counts.disabled == 1  # carol, disabled in the directory
    got = user(app, alice.upn)
    assert (got.first_name, got.last_name, got.email) == ("Alice", "Tester", alice.email)
    assert got.phone == "+14155550123"  # mobile first
    assert got.external_id == alice.object_guid and got.dn == alice.dn
    assert got.groups == (group.dn,) and not got.disabled
    assert user(app, bob.upn).phone == "+442079460958"
    assert user(app, carol.upn).disabled_reason == DisabledReason.DIRECTORY_DISABLED
    with pytest.raises(Exception, match="no user"):
        user(app, "outsider@example.test")


def test_an_ldap_sync_keys_users_by_entry_uuid(app: App, slapd: SlapdTree) -> None:
    people = [slapd.add_user(name) for name in ("dave", "erin")]
    add(app, slapd.ldap_settings(kind="ldap"))
    assert app.directory_sync.sync(OPERATOR, "default", "corp").counts.created == 2
    for person in people:
        assert user(app, person.upn).external_id == slapd.entry_uuid(person)


@pytest.mark.parametrize("kind", ["active_directory", "ldap"])
def test_an_incremental_sync_changes_exactly_the_users_changed(
    app: App, slapd: SlapdTree, kind: str
) -> None:
    people = [slapd.add_user(f"user{i}") for i in range(12)]
    add(app, slapd.ldap_settings(kind=kind))
    assert app.directory_sync.sync(OPERATOR, "default", "corp").counts.created == 12
    slapd.modify_user(people[1], sn="Changed")
    slapd.modify_user(people[4], mail="new4@example.test")
    slapd.modify_user(people[7], mobile="+14155550177")
    report = app.directory_sync.sync(OPERATOR, "default", "corp")
    assert not report.full and report.counts.changed == 3
    assert report.counts.created == report.counts.disabled == 0
    if kind == "active_directory":
        assert report.counts.seen == 3  # uSNChanged: exactly those
    assert user(app, people[1].upn).last_name == "Changed"
    assert user(app, people[4].upn).email == "new4@example.test"
    assert user(app, people[7].upn).phone == "+14155550177"


def test_removed_moved_out_and_disabled_users_are_disabled_by_the_next_sync(
    app: App, slapd: SlapdTree, client: TestClient
) -> None:
    alice, bob, carol, dave = (slapd.add_user(n) for n in ("alice", "bob", "carol", "dave"))
    group = slapd.add_group("MFA Users", [alice, bob, carol, dave])
    add(app, slapd.ldap_settings(kind="active_directory", mfa_group=group.dn))
    app.directory_sync.sync(OPERATOR, "default", "corp")
    enrolled = builders.token(app, bob.upn)
    slapd.delete_user(alice)
    slapd.remove_from_group(bob, group)
    slapd.set_disabled(carol)
    report = app.directory_sync.sync(OPERATOR, "default", "corp")
    # The group changed, so its members are read again (carol and dave); nothing else.
    assert report.counts.disabled == 3 and report.counts.seen == 2
    reasons = {
        u: user(app, p.upn).disabled_reason for u, p in (("a", alice), ("b", bob), ("c", carol))
    }
    assert reasons == {
        "a": DisabledReason.DIRECTORY_REMOVED,
        "b": DisabledReason.DIRECTORY_REMOVED,
        "c": DisabledReason.DIRECTORY_DISABLED,
    }
    assert not user(app, dave.upn).disabled
    assert [m.id for m in app.enroll.list(OPERATOR, "default", bob.upn)] == [enrolled.method.id]
    # A sign-in of bob is refused as a disabled user's, before any code is checked.
    _integration, key = builders.integration(app)
    answer = client.post(
        "/v1/validate",
        json={"user": bob.upn, "code": enrolled.hotp(0)},
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    assert (answer["result"], answer["reason"]) == ("reject", "user_disabled")
    # Back in the group (its own change counter unmoved) and enabled in AD: active again.
    slapd.add_to_group(bob, group)
    slapd.set_disabled(carol, False)
    report = app.directory_sync.sync(OPERATOR, "default", "corp")
    assert report.counts.enabled == 2
    assert not user(app, bob.upn).disabled and not user(app, carol.upn).disabled


def test_a_directory_that_is_down_answers_502_and_changes_nothing(
    app: App, slapd: SlapdTree, client: TestClient
) -> None:
    people = [slapd.add_user(n) for n in ("alice", "bob")]
    add(app, slapd.ldap_settings(kind="active_directory"))
    app.directory_sync.sync(OPERATOR, "default", "corp")
    slapd.delete_user(people[0])
    admin = {"Authorization": f"Bearer {app.admin.bootstrap_admin_key()}"}
    base = "/v1/tenants/default/directories/corp"
    slapd.stop()
    try:
        for path in ("/sync", "/test"):
            answer = client.post(base + path, json={} if path == "/sync" else None, headers=admin)
            assert answer.status_code == 502, answer.text
            assert answer.json()["error"]["code"] == "directory_unavailable"
        with pytest.raises(DirectoryUnavailable):
            app.directory_sync.sync(OPERATOR, "default", "corp", full=True)
    finally:
        slapd.start()
    assert not user(app, people[0].upn).disabled  # could not read: nobody is taken for gone
    shown = client.get(base, headers=admin).json()
    assert shown["sync_progress"]["state"] == "failed"
    assert shown["sync_progress"]["error"] == "directory_unavailable"
    assert app.directory_sync.sync(OPERATOR, "default", "corp").counts.disabled == 1


def test_the_connection_test_counts_the_users_in_scope(app: App, slapd: SlapdTree) -> None:
    for name in ("alice", "bob", "carol"):
        slapd.add_user(name)
    add(app, slapd.ldap_settings(kind="active_directory", security="ldaps"))
    assert app.directories.test(OPERATOR, "default", "corp").users_in_scope == 3
    app.directories.update(OPERATOR, "default", "corp", {"bind_password": "wrong"})
    with pytest.raises(DirectoryUnavailable, match="refused the reading account"):
        app.directories.test(OPERATOR, "default", "corp")
