"""Incremental scans' cursors: where the next scan starts, per directory kind."""

from __future__ import annotations

from datetime import UTC, datetime

from twostep.adapters.directory import marks
from twostep.adapters.directory.entries import normalise
from twostep.domain.directory import DirectoryKind

AD = DirectoryKind.ACTIVE_DIRECTORY
LDAP = DirectoryKind.LDAP
DC1 = "CN=NTDS Settings,CN=DC1,CN=Servers,DC=corp"


def seen(tracker: marks.Tracker, **attributes: bytes) -> None:
    tracker.see(normalise({name: [value] for name, value in attributes.items()}))


def test_ad_starts_the_next_scan_after_the_highest_committed_usn_read_before() -> None:
    tracker = marks.Tracker(AD, DC1, highest_committed=5000)
    seen(tracker, uSNChanged=b"4990")

    cursor = tracker.cursor()

    assert cursor == f"usn:5000@{DC1}"
    mark = marks.parse(cursor, AD, DC1)
    assert mark is not None
    assert mark.filter() == "(uSNChanged>=5001)"


def test_ad_without_highest_committed_usn_takes_the_highest_seen() -> None:
    tracker = marks.Tracker(AD, "ldaps://dc1:636")
    for usn in (b"17", b"42", b"23"):
        seen(tracker, uSNChanged=usn)

    assert tracker.cursor() == "usn:42@ldaps://dc1:636"


def test_an_incremental_scan_that_finds_nothing_keeps_its_cursor() -> None:
    since = marks.parse("usn:42@dc1", AD, "dc1")
    tracker = marks.Tracker(AD, "dc1", since)

    assert tracker.cursor() == "usn:42@dc1"


def test_a_usn_cursor_of_another_domain_controller_means_a_full_scan() -> None:
    # USNs are local to a DC: after a failover they mean nothing.
    assert marks.parse(f"usn:42@{DC1}", AD, "CN=NTDS Settings,CN=DC2") is None


def test_a_cursor_of_the_other_kind_or_unreadable_means_a_full_scan() -> None:
    assert marks.parse("ts:20260102030405Z", AD, "dc1") is None
    assert marks.parse("usn:42@dc1", LDAP, "dc1") is None
    assert marks.parse("usn:x@dc1", AD, "dc1") is None
    assert marks.parse("ts:yesterday", LDAP, "dc1") is None
    assert marks.parse("", LDAP, "dc1") is None


def test_ldap_starts_a_margin_before_the_highest_modify_timestamp_seen() -> None:
    tracker = marks.Tracker(LDAP, "ldap://a")
    seen(tracker, modifyTimestamp=b"20260102030405Z")
    seen(tracker, modifyTimestamp=b"20260102031000Z")
    seen(tracker, modifyTimestamp=b"20260101000000Z")

    cursor = tracker.cursor()

    assert cursor == "ts:20260102030500Z"  # 03:10:00 less five minutes
    mark = marks.parse(cursor, LDAP, "ldap://b")  # any server: timestamps replicate
    assert mark is not None
    assert mark.filter() == "(modifyTimestamp>=20260102030500Z)"


def test_ldap_cursor_never_moves_back() -> None:
    since = marks.parse("ts:20260102030500Z", LDAP, "x")
    tracker = marks.Tracker(LDAP, "x", since)
    seen(tracker, modifyTimestamp=b"20260102030600Z")  # within the margin of the cursor

    assert tracker.cursor() == "ts:20260102030500Z"


def test_a_full_scan_of_nothing_has_no_cursor() -> None:
    tracker = marks.Tracker(LDAP, "x")

    assert tracker.cursor() is None


def test_generalized_time_with_fractions_and_offsets() -> None:
    expected = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    assert marks.parse_time("20260102030405Z") == expected
    assert marks.parse_time("20260102030405.0Z") == expected
    assert marks.parse_time("20260102050405+0200") == expected
    assert marks.parse_time("20261302030405Z") is None


def test_the_group_changed_after_the_mark() -> None:
    usn = marks.UsnMark(100, "dc1")
    when = marks.TimeMark(datetime(2026, 1, 2, tzinfo=UTC))

    assert usn.changed(normalise({"uSNChanged": [b"101"]}))
    assert not usn.changed(normalise({"uSNChanged": [b"100"]}))
    assert when.changed(normalise({"modifyTimestamp": [b"20260102000000Z"]}))
    assert not when.changed(normalise({"modifyTimestamp": [b"20260101235959Z"]}))
    assert usn.changed({})  # unknown: read the members again
