"""A directory sync, against an in-memory directory, on both databases: users created,
changed, renamed, linked, disabled and enabled as the directory has them; what it passes
over; what it never does (disable anyone when the directory cannot be read, undo an
admin's disabling, delete a method); one sync at a time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import builders
from tests.support.directories import FakeDirectory, entry
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.admin_events import AdminEventQuery
from twostep.domain.entities import DisabledReason, MethodKind, MfaState, User
from twostep.domain.errors import DirectoryUnavailable, SyncRunning
from twostep.services.admin import OPERATOR
from twostep.services.directories import DirectoryAdmin
from twostep.services.directory_progress import SyncCounts
from twostep.services.directory_sync import DirectorySync
from twostep.services.leases import directory_lease

pytestmark = pytest.mark.usefixtures("backend")

SETTINGS = {
    "urls": ["ldap://dc1.example.com"],
    "bind_dn": "CN=reader,OU=Service,DC=example,DC=com",
    "bind_password": "reader-password",
    "base_dn": "DC=example,DC=com",
}
MOBILE = "+14155550123"
GROUP = "CN=MFA Users,OU=Groups,DC=example,DC=com"


@pytest.fixture
def ldap() -> FakeDirectory:
    return FakeDirectory()


@pytest.fixture
def sync(app: App, ldap: FakeDirectory) -> DirectorySync:
    # Batches of three: a handful of entries already spans several transactions.
    return DirectorySync(app.deps, ldap, batch=3)


def add(app: App, ldap: FakeDirectory, name: str = "corp", **settings: Any) -> DirectoryAdmin:
    admin = DirectoryAdmin(app.deps, ldap)
    admin.add(OPERATOR, "default", name, {**SETTINGS, **settings})
    return admin


def user(app: App, name: str) -> User:
    return app.admin.get_user(OPERATOR, "default", name)


def counts(**nonzero: int) -> dict[str, int]:
    return {**SyncCounts().as_dict(), **nonzero}


def test_a_full_sync_takes_every_user_in_scope(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    ldap.put(
        entry("alice@example.com", mobile="+1 415 555 0123", phone="+14155550999", groups=(GROUP,)),
        entry("bob@example.com", phone="+44 20 7946 0958"),
        *(entry(f"user{i}@example.com") for i in range(5)),
    )
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.full and report.counts.as_dict() == counts(seen=7, created=7)
    alice = user(app, "ALICE@example.com")
    assert (alice.name, alice.first_name, alice.last_name) == (
        "alice@example.com",
        "Alice",
        "Example",
    )
    assert alice.email == "alice@example.com" and alice.phone == MOBILE  # mobile first
    assert alice.groups == (GROUP,) and alice.dn == "CN=alice,OU=People,DC=example,DC=com"
    assert alice.external_id == "uuid-alice" and alice.directory_id is not None
    assert alice.mfa is MfaState.ENABLED and not alice.disabled
    assert user(app, "bob@example.com").phone == "+442079460958"  # else the telephone
    assert ldap.passwords == ["reader-password"]  # unsealed for the reading account
    view = DirectoryAdmin(app.deps, ldap).get(OPERATOR, "default", "corp")
    assert view.sync_state == "done" and view.directory.synced_at == app.deps.clock.now()
    assert view.sync is not None and view.sync.counts.created == 7
    [event] = _events(app, "directory.sync")
    assert event.result == "ok" and event.actor == "operator" and event.target == "corp"
    assert event.changes == {"full": True, "seen": 7, "created": 7}


def test_an_incremental_sync_reads_and_changes_only_what_changed(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    ldap.put(*(entry(f"user{i}@example.com") for i in range(6)))
    sync.sync(OPERATOR, "default", "corp")
    ldap.change("uuid-user1", last_name="Changed")
    ldap.change("uuid-user2", email="new2@example.com", groups=(GROUP,))
    ldap.change("uuid-user3")  # touched, nothing we keep changed
    report = sync.sync(OPERATOR, "default", "corp")
    assert not report.full and ldap.scans[-1] == "6"
    assert report.counts.as_dict() == counts(seen=3, changed=2)
    assert user(app, "user1@example.com").last_name == "Changed"
    changed = user(app, "user2@example.com")
    assert changed.email == "new2@example.com" and changed.groups == (GROUP,)
    assert sync.sync(OPERATOR, "default", "corp", full=True).counts.as_dict() == counts(seen=6)


def test_a_rename_follows_the_stable_id_and_keeps_the_methods(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    ldap.put(entry("alice@example.com"))
    sync.sync(OPERATOR, "default", "corp")
    enrolled = builders.token(app, "alice@example.com")
    ldap.change("uuid-alice", user_id="alice.smith@example.com", last_name="Smith")
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.changed == 1
    renamed = user(app, "Alice.Smith@example.com")
    assert renamed.last_name == "Smith"
    assert [m.id for m in app.enroll.list(OPERATOR, "default", renamed.name)] == [
        enrolled.method.id
    ]
    with pytest.raises(Exception, match="no user"):
        user(app, "alice@example.com")


def test_users_gone_from_the_scope_are_disabled_and_keep_their_methods(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    ldap.put(*(entry(f"{n}@example.com") for n in ("alice", "bob", "carol", "dave")))
    sync.sync(OPERATOR, "default", "corp")
    enrolled = builders.token(app, "bob@example.com")
    ldap.remove("uuid-bob")  # deleted
    ldap.hide("uuid-carol")  # moved out of the MFA group: its change counter unmoved
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.as_dict() == counts(disabled=2)
    for name in ("bob", "carol"):
        gone = user(app, f"{name}@example.com")
        assert gone.disabled and gone.disabled_reason == DisabledReason.DIRECTORY_REMOVED
    assert not user(app, "alice@example.com").disabled
    assert [m.id for m in app.enroll.list(OPERATOR, "default", "bob@example.com")] == [
        enrolled.method.id
    ]
    # Back in the group, unchanged otherwise: an incremental sync still finds them.
    ldap.show("uuid-carol")
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.enabled == 1 and not user(app, "carol@example.com").disabled
    assert user(app, "bob@example.com").disabled


def test_a_member_added_to_the_group_is_taken_by_an_incremental_sync(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    ldap.put(entry("alice@example.com"), entry("erin@example.com"))
    ldap.hide("uuid-erin")
    sync.sync(OPERATOR, "default", "corp")
    ldap.show("uuid-erin")
    report = sync.sync(OPERATOR, "default", "corp")
    assert not report.full and report.counts.created == 1
    assert user(app, "erin@example.com").external_id == "uuid-erin"


def test_disabled_in_the_directory_is_disabled_here_and_enabled_when_active_again(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    ldap.put(entry("alice@example.com"), entry("frank@example.com", disabled=True))
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.as_dict() == counts(seen=2, created=2, disabled=1)
    frank = user(app, "frank@example.com")
    assert frank.disabled and frank.disabled_reason == DisabledReason.DIRECTORY_DISABLED
    ldap.change("uuid-alice", disabled=True)
    ldap.change("uuid-frank", disabled=False)
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.as_dict() == counts(seen=2, disabled=1, enabled=1)
    assert user(app, "alice@example.com").disabled_reason == DisabledReason.DIRECTORY_DISABLED
    assert not user(app, "frank@example.com").disabled


def test_a_user_an_admin_disabled_stays_disabled(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    ldap.put(entry("alice@example.com"))
    sync.sync(OPERATOR, "default", "corp")
    with app.storage.transaction(write=True) as tx:
        tx.users.set_disabled(user(app, "alice@example.com").id, 1.0, DisabledReason.ADMIN.value)
    ldap.change("uuid-alice", last_name="Changed")
    sync.sync(OPERATOR, "default", "corp", full=True)
    alice = user(app, "alice@example.com")
    assert alice.last_name == "Changed"
    assert alice.disabled and alice.disabled_reason == DisabledReason.ADMIN


def test_a_user_made_by_hand_is_linked_not_duplicated(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    builders.user(app, "Alice@Example.com", first_name="Al", mfa=MfaState.ENFORCED)
    enrolled = builders.token(app, "alice@example.com")
    ldap.put(entry("alice@example.com"))
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.as_dict() == counts(seen=1, changed=1)
    alice = user(app, "alice@example.com")
    assert alice.external_id == "uuid-alice" and alice.directory_id is not None
    assert alice.name == "alice@example.com" and alice.first_name == "Alice"
    assert alice.mfa is MfaState.ENFORCED  # the directory does not own the MFA state
    assert [m.id for m in app.enroll.list(OPERATOR, "default", alice.name)] == [enrolled.method.id]


def test_a_name_another_directory_has_is_a_conflict(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    add(app, ldap, "other")
    ldap.put(entry("alice@example.com"))
    sync.sync(OPERATOR, "default", "other")
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.as_dict() == counts(seen=1, conflicts=1)
    [problem] = report.problems
    assert problem.reason == "conflict" and "another directory" in problem.detail
    alice = user(app, "alice@example.com")
    other = DirectoryAdmin(app.deps, ldap).get(OPERATOR, "default", "other")
    assert alice.directory_id == other.directory.id


def test_entries_without_a_usable_user_id_are_skipped_and_counted(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    ldap.put(
        entry("alice@example.com"),
        entry("svc", user_id=None, external_id="uuid-svc"),
        entry("bad", user_id="two  spaces", external_id="uuid-bad"),
    )
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.as_dict() == counts(seen=3, created=1, skipped=2)
    assert sorted(p.reason for p in report.problems) == ["invalid_user_id", "no_user_id"]
    # Passed over once, not fetched again by each incremental sync.
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.as_dict() == counts() and ldap.scans[-1] is not None


def test_a_number_that_cannot_be_read_is_counted_not_fatal(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    ldap.put(entry("alice@example.com", mobile="0171 555 0199"), entry("bob@example.com"))
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.as_dict() == counts(seen=2, created=2, bad_phones=1)
    assert user(app, "alice@example.com").phone is None


def test_an_unreachable_directory_changes_nothing(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap)
    ldap.put(entry("alice@example.com"), entry("bob@example.com"))
    sync.sync(OPERATOR, "default", "corp")
    ldap.down = True
    with pytest.raises(DirectoryUnavailable):
        sync.sync(OPERATOR, "default", "corp")
    view = DirectoryAdmin(app.deps, ldap).get(OPERATOR, "default", "corp")
    assert view.sync_state == "failed" and view.sync is not None
    assert view.sync.error == "directory_unavailable"
    assert _events(app, "directory.sync")[-1].result == "directory_unavailable"
    # Reachable, but the sweep fails half-way: nobody is taken for gone.
    ldap.down, ldap.fail_present = False, True
    ldap.remove("uuid-bob")
    with pytest.raises(DirectoryUnavailable):
        sync.sync(OPERATOR, "default", "corp")
    assert not user(app, "bob@example.com").disabled
    # A directory that answers no one in scope (a mistyped group) disables no one either.
    ldap.fail_present = False
    ldap.remove("uuid-alice")
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.disabled == 0 and "nothing was disabled" in (report.message or "")
    assert not user(app, "alice@example.com").disabled


def test_a_scan_that_fails_half_way_keeps_the_cursor(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    admin = add(app, ldap)
    ldap.put(*(entry(f"user{i}@example.com") for i in range(7)))
    ldap.fail_after = 4
    with pytest.raises(DirectoryUnavailable):
        sync.sync(OPERATOR, "default", "corp")
    view = admin.get(OPERATOR, "default", "corp")
    assert view.directory.sync_cursor is None and view.sync is not None
    assert view.sync.counts.created == 3  # the batches written before it failed
    ldap.fail_after = None
    assert sync.sync(OPERATOR, "default", "corp").counts.created == 4


def test_a_dry_run_writes_nothing_and_says_what_would_change(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    admin = add(app, ldap)
    ldap.put(*(entry(f"{n}@example.com") for n in ("alice", "bob", "carol")))
    sync.sync(OPERATOR, "default", "corp")
    ldap.change("uuid-alice", last_name="Changed", phone=MOBILE)
    ldap.remove("uuid-bob")
    ldap.put(entry("dave@example.com"), entry("erin@example.com", disabled=True))
    before = [
        (u.name, u.last_name, u.disabled_at) for u in app.admin.list_users(OPERATOR, "default")
    ]
    events = len(_events(app, "directory.sync"))
    report = sync.sync(OPERATOR, "default", "corp", dry_run=True)
    assert report.dry_run
    assert report.counts.as_dict() == counts(seen=3, created=2, changed=1, disabled=2)
    assert [c.user for c in report.lists.created] == ["dave@example.com", "erin@example.com"]
    [changed] = report.lists.changed
    assert (changed.user, changed.fields) == ("alice@example.com", ("last_name", "phone"))
    assert sorted(c.user for c in report.lists.disabled) == ["bob@example.com", "erin@example.com"]
    after = [
        (u.name, u.last_name, u.disabled_at) for u in app.admin.list_users(OPERATOR, "default")
    ]
    assert after == before and len(_events(app, "directory.sync")) == events
    assert admin.get(OPERATOR, "default", "corp").sync.counts.created == 3  # type: ignore[union-attr]


def test_phone_methods_are_made_for_users_without_one(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    add(app, ldap, phone_methods=["sms", "voice"])
    ldap.put(
        entry("alice@example.com", mobile=MOBILE),
        entry("bob@example.com", mobile="+14155550124"),
        entry("carol@example.com"),  # no number: nothing to make
    )
    builders.user(app, "bob@example.com")
    app.enroll.enroll_phone(OPERATOR, "default", "bob@example.com", MethodKind.SMS, "+14155550999")
    report = sync.sync(OPERATOR, "default", "corp")
    assert report.counts.methods_added == 3  # alice: sms and voice; bob: voice
    alice = app.enroll.list(OPERATOR, "default", "alice@example.com")
    assert sorted((m.kind.value, m.phone) for m in alice) == [("sms", MOBILE), ("voice", MOBILE)]
    assert user(app, "alice@example.com").mfa is MfaState.ENFORCED  # registered
    bob = app.enroll.list(OPERATOR, "default", "bob@example.com")
    assert sorted((m.kind.value, m.phone) for m in bob) == [
        ("sms", "+14155550999"),
        ("voice", "+14155550124"),
    ]
    assert app.enroll.list(OPERATOR, "default", "carol@example.com") == []
    assert sync.sync(OPERATOR, "default", "corp", full=True).counts.methods_added == 0


def test_a_phone_method_the_tenant_refuses_is_counted(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    app.admin.update_settings(OPERATOR, "default", {"voice_pin_required": True})
    add(app, ldap, phone_methods=["voice"])
    ldap.put(entry("alice@example.com", mobile=MOBILE))
    report = sync.sync(OPERATOR, "default", "corp")
    assert (report.counts.methods_added, report.counts.methods_refused) == (0, 1)
    assert report.problems[0].reason == "method_refused"


def test_one_sync_at_a_time(
    app: App, ldap: FakeDirectory, sync: DirectorySync, clock: FakeClock
) -> None:
    admin = add(app, ldap)
    ldap.put(entry("alice@example.com"))
    directory_id = admin.get(OPERATOR, "default", "corp").directory.id
    other_node = directory_lease(app.deps, directory_id)
    assert other_node.take()
    with pytest.raises(SyncRunning):
        sync.sync(OPERATOR, "default", "corp")
    assert ldap.connections == 0
    clock.advance(other_node.seconds + 1)  # the other node stopped renewing it
    assert sync.sync(OPERATOR, "default", "corp").counts.created == 1
    assert other_node.take()  # released when the sync ended


def test_progress_is_told_every_batch(app: App, ldap: FakeDirectory, sync: DirectorySync) -> None:
    add(app, ldap)
    ldap.put(*(entry(f"user{i}@example.com") for i in range(8)))
    seen: list[int] = []
    sync.sync(OPERATOR, "default", "corp", progress=lambda c: seen.append(c.seen))
    assert [n for n in seen if n][:3] == [3, 6, 8]


def test_a_tenant_admin_syncs_only_their_tenant(
    app: App, ldap: FakeDirectory, sync: DirectorySync
) -> None:
    from twostep.domain.entities import Role
    from twostep.domain.errors import TenantNotFound

    add(app, ldap)
    app.admin.create_tenant(OPERATOR, "acme")
    acme, _key = app.admin.create_admin_key(OPERATOR, "acme-admin", Role.TENANT_ADMIN, "acme")
    with pytest.raises(TenantNotFound):
        sync.sync(acme, "default", "corp")


def _events(app: App, action: str) -> list[Any]:
    tenant = app.admin.get_tenant(OPERATOR, "default")
    with app.storage.transaction() as tx:
        return list(tx.admin_events.query(AdminEventQuery(tenant_id=tenant.id, action=action)))
