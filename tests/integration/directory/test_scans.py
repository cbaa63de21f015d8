"""Reading users from a real slapd: paged full scans, incremental scans per kind, scope by
filter and MFA group, and the presence sweep."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator

import pytest

from tests.support.slapd import LdapUser, SlapdTree
from twostep.adapters.directory.connector import LdapConnector
from twostep.domain.directory import DirectoryEntry, DirectoryKind, DirectorySettings
from twostep.domain.errors import DirectoryUnavailable

AD = DirectoryKind.ACTIVE_DIRECTORY
LDAP = DirectoryKind.LDAP


@pytest.fixture
def connector() -> Iterator[LdapConnector]:
    connector = LdapConnector()
    yield connector
    connector.close()


def scan(
    connector: LdapConnector, settings: DirectorySettings, since: str | None = None
) -> tuple[dict[str, DirectoryEntry], str | None]:
    conn = connector.connect(settings, None)
    try:
        found = conn.users(since)
        entries = {e.external_id: e for e in found.entries}
        return entries, found.next_cursor
    finally:
        conn.close()


def present(connector: LdapConnector, settings: DirectorySettings) -> set[str]:
    conn = connector.connect(settings, None)
    try:
        return set(conn.present())
    finally:
        conn.close()


def ids(slapd: SlapdTree, kind: DirectoryKind, *users: LdapUser) -> set[str]:
    if kind is AD:
        return {u.object_guid for u in users}
    return {slapd.entry_uuid(u) for u in users}


def test_a_full_scan_pages_through_more_users_than_the_server_returns_unpaged(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    # This slapd answers at most 500 entries to a search that does not page.
    users = slapd.bulk_users(1200)

    entries, cursor = scan(connector, slapd.ldap_settings(AD, page_size=100))

    assert set(entries) == {u.object_guid for u in users}
    alice = entries[users[0].object_guid]
    assert (alice.user_id, alice.mobile, alice.phone) == (
        "user00001@example.test",
        "+15550000001",
        "+16660000001",
    )
    assert alice.dn == users[0].dn
    assert cursor is not None


def test_entries_are_read_a_page_at_a_time_and_a_broken_scan_raises(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    slapd.bulk_users(300)
    conn = connector.connect(slapd.ldap_settings(AD, page_size=100), None)
    found = conn.users()
    read = [next(found.entries)]  # the first page is in; the others are not asked yet

    slapd.stop()
    with pytest.raises(DirectoryUnavailable, match="search failed"):
        read.extend(found.entries)

    assert len(read) == 100  # the first page, then the error: never a quiet partial list
    assert found.next_cursor is None
    conn.close()


def test_active_directory_incremental_scan_finds_exactly_the_changed_users(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    alice, bob, carol, dave = (slapd.add_user(n) for n in ("alice", "bob", "carol", "dave"))
    settings = slapd.ldap_settings(AD)
    entries, cursor = scan(connector, settings)
    assert set(entries) == ids(slapd, AD, alice, bob, carol, dave)

    slapd.modify_user(alice, mobile="+15550100")
    slapd.set_disabled(bob)
    erin = slapd.add_user("erin")
    changed, next_cursor = scan(connector, settings, cursor)

    assert set(changed) == ids(slapd, AD, alice, bob, erin)
    assert changed[alice.object_guid].mobile == "+15550100"
    assert changed[bob.object_guid].disabled is True
    assert changed[erin.object_guid].disabled is False
    assert next_cursor != cursor
    nothing, same = scan(connector, settings, next_cursor)
    assert nothing == {}
    assert same == next_cursor


def test_ldap_incremental_scan_finds_the_changed_users_by_modify_timestamp(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    old = slapd.bulk_users(20, modified_at=an_hour_ago)
    settings = slapd.ldap_settings(LDAP)
    entries, cursor = scan(connector, settings)
    assert set(entries) == ids(slapd, LDAP, *old)

    slapd.modify_user(old[3], mail="new@example.test")
    newcomer = slapd.add_user("newcomer")
    changed, cursor = scan(connector, settings, cursor)
    # The cursor stays a margin behind the newest change seen: the first incremental scan
    # also reads again the users changed within that margin of the full scan's newest.
    assert ids(slapd, LDAP, old[3], newcomer) <= set(changed)
    assert changed[slapd.entry_uuid(old[3])].email == "new@example.test"

    changed, cursor = scan(connector, settings, cursor)
    assert set(changed) == ids(slapd, LDAP, old[3], newcomer)  # not the 19 unchanged

    slapd.set_disabled(old[7])
    changed, _ = scan(connector, settings, cursor)
    assert set(changed) == ids(slapd, LDAP, old[3], newcomer, old[7])


def test_ldap_a_change_during_the_scan_to_an_entry_already_read_is_not_missed(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    users = slapd.bulk_users(20, modified_at=an_hour_ago)
    by_id = {slapd.entry_uuid(u): u for u in users}
    conn = connector.connect(slapd.ldap_settings(LDAP, page_size=10), None)
    found = conn.users()
    first_page = [next(found.entries) for _ in range(10)]

    early = by_id[first_page[0].external_id]  # already read: the scan will not see this
    slapd.modify_user(early, mobile="+15550111")
    time.sleep(1.1)  # a later second: the cursor comes from the later change
    late = next(u for i, u in by_id.items() if i not in {e.external_id for e in first_page})
    slapd.modify_user(late, mobile="+15550222")
    rest = list(found.entries)
    cursor = found.next_cursor
    conn.close()

    assert len(first_page) + len(rest) == 20
    changed, _ = scan(connector, slapd.ldap_settings(LDAP), cursor)
    assert slapd.entry_uuid(early) in changed


@pytest.mark.parametrize("kind", [AD, LDAP])
def test_scope_is_the_user_filter(
    slapd: SlapdTree, connector: LdapConnector, kind: DirectoryKind
) -> None:
    with_mobile = slapd.add_user("alice", mobile="+15550100")
    slapd.add_user("bob")

    entries, _ = scan(connector, slapd.ldap_settings(kind, user_filter="(mobile=*)"))

    assert set(entries) == ids(slapd, kind, with_mobile)
    assert present(connector, slapd.ldap_settings(kind, user_filter="mobile=*")) == set(entries)


@pytest.mark.parametrize("kind", [AD, LDAP])
def test_scope_is_the_mfa_groups_members(
    slapd: SlapdTree, connector: LdapConnector, kind: DirectoryKind
) -> None:
    alice, bob, carol = (slapd.add_user(n) for n in ("alice", "bob", "carol"))
    group = slapd.add_group("MFA users (VPN)", [alice, bob])
    slapd.add_group("Staff", [carol])
    settings = slapd.ldap_settings(kind, mfa_group=group.dn)

    entries, _ = scan(connector, settings)

    assert set(entries) == ids(slapd, kind, alice, bob)
    assert entries[next(iter(ids(slapd, kind, alice)))].groups == (group.dn,)
    slapd.remove_from_group(bob, group)
    assert present(connector, settings) == ids(slapd, kind, alice)


@pytest.mark.parametrize("kind", [AD, LDAP])
def test_a_member_added_to_the_mfa_group_is_in_the_next_incremental_scan(
    slapd: SlapdTree, connector: LdapConnector, kind: DirectoryKind
) -> None:
    # Neither AD nor slapd's memberof marks the member as changed: the group changes.
    # Bob's last change is older than anything the first scan reads.
    now = datetime.datetime.now(datetime.UTC)
    (bob,) = slapd.bulk_users(1, prefix="bob", modified_at=now - datetime.timedelta(hours=2))
    (alice,) = slapd.bulk_users(1, prefix="alice", modified_at=now - datetime.timedelta(hours=1))
    group = slapd.add_group("mfa", [alice])
    settings = slapd.ldap_settings(kind, mfa_group=group.dn)
    _, cursor = scan(connector, settings)

    slapd.add_to_group(bob, group)
    changed, _ = scan(connector, settings, cursor)

    assert ids(slapd, kind, bob) <= set(changed)


def test_an_mfa_group_that_does_not_exist_is_an_error_not_an_empty_scope(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    slapd.add_user("alice")
    settings = slapd.ldap_settings(AD, mfa_group=f"cn=no such group,{slapd.groups_dn}")

    with pytest.raises(DirectoryUnavailable, match="does not exist"):
        scan(connector, settings)
    with pytest.raises(DirectoryUnavailable, match="does not exist"):
        present(connector, settings)


def test_a_base_dn_that_does_not_exist_is_an_error(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    settings = slapd.ldap_settings(LDAP, base_dn=f"ou=nowhere,{slapd.root_dn}")

    with pytest.raises(DirectoryUnavailable, match=r"No such object|noSuchObject"):
        present(connector, settings)


def test_the_ad_disabled_bit(slapd: SlapdTree, connector: LdapConnector) -> None:
    alice = slapd.add_user("alice")
    bob = slapd.add_user("bob", disabled=True)
    settings = slapd.ldap_settings(AD)

    entries, _ = scan(connector, settings)
    assert (entries[alice.object_guid].disabled, entries[bob.object_guid].disabled) == (
        False,
        True,
    )

    slapd.set_disabled(bob, False)
    slapd.set_disabled(alice)
    entries, _ = scan(connector, settings)
    assert (entries[alice.object_guid].disabled, entries[bob.object_guid].disabled) == (
        True,
        False,
    )


@pytest.mark.parametrize("kind", [AD, LDAP])
def test_present_follows_deletes_and_keeps_renamed_entries(
    slapd: SlapdTree, connector: LdapConnector, kind: DirectoryKind
) -> None:
    alice, bob, carol = (slapd.add_user(n) for n in ("alice", "bob", "carol"))
    settings = slapd.ldap_settings(kind)
    before = present(connector, settings)
    assert before == ids(slapd, kind, alice, bob, carol)
    (carols,) = ids(slapd, kind, carol)

    slapd.delete_user(bob)
    renamed = slapd.rename_user(carol, "carol.smith")
    after = present(connector, settings)

    assert after == ids(slapd, kind, alice, renamed)
    assert ids(slapd, kind, renamed) == {carols}  # the same external id
    entries, _ = scan(connector, settings)
    assert entries[carols].dn == renamed.dn


def test_users_without_a_user_id_attribute_are_read_with_none(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    nameless = slapd.add_user("nameless", upn="", sAMAccountName=None)

    entries, _ = scan(connector, slapd.ldap_settings(AD))

    assert entries[nameless.object_guid].user_id is None


def test_the_reading_account_refused_is_unavailable_and_its_password_never_shown(
    slapd: SlapdTree, connector: LdapConnector
) -> None:
    settings = slapd.ldap_settings(LDAP)

    with pytest.raises(DirectoryUnavailable, match="refused the reading account") as refused:
        connector.connect(settings, "not-the-password-123")
    assert "not-the-password-123" not in str(refused.value)
    with pytest.raises(DirectoryUnavailable, match="has no password"):
        connector.connect(settings.model_copy(update={"bind_password": None}), None)


def test_the_phone_attributes_are_mfa_servers_and_the_extension_is_configurable(
    connector: LdapConnector, slapd: SlapdTree
) -> None:
    """Read by default: telephoneNumber, mobile, homePhone, pager, facsimileTelephoneNumber,
    ipPhone; an extension from the attribute the admin names (none by default)."""
    from twostep.domain.directory import AttributeMap
    from twostep.services.directory_entries import Mapped, map_entry

    def phone_of(entry: DirectoryEntry) -> str | None:
        mapped = map_entry(entry)
        assert isinstance(mapped, Mapped)
        return mapped.user.phone

    slapd.add_user(
        "office",
        phone="+1 202 555 0100",
        homePhone="+1 202 555 0101",
        pager="+1 202 555 0102",
        facsimileTelephoneNumber="+1 202 555 0103",
        ipPhone="+1 202 555 0104",
        roomNumber="890",  # the extension, in an attribute the admin names
    )
    slapd.add_user(
        "pager-only", pager="+1 202 555 0200", facsimileTelephoneNumber="+1 202 555 0201"
    )
    plain = slapd.ldap_settings(kind=AD)
    named = slapd.ldap_settings(kind=AD, attributes=AttributeMap(extension="roomNumber"))
    by_name = {e.user_id: e for e in scan(connector, plain)[0].values()}
    office = by_name["office@example.test"]
    assert (office.phone, office.home_phone, office.pager, office.fax, office.ip_phone) == (
        "+1 202 555 0100",
        "+1 202 555 0101",
        "+1 202 555 0102",
        "+1 202 555 0103",
        "+1 202 555 0104",
    )
    assert office.extension is None
    assert phone_of(office) == "+12025550100"
    with_extension = {e.user_id: e for e in scan(connector, named)[0].values()}
    office = with_extension["office@example.test"]
    assert office.extension == "890"
    # The office number has an extension Twostep cannot dial: the home phone is the phone.
    assert phone_of(office) == "+12025550101"
    # Pager and fax make no phone.
    assert phone_of(with_extension["pager-only@example.test"]) is None
