"""`twostep directories`: its plain words are the domain's, and its options make the
settings the service takes (unset options left out)."""

from __future__ import annotations

import typing

import click
import pytest

from twostep.domain.directory import (
    AttributeMap,
    Directory,
    DirectoryKind,
    DirectorySettings,
    PhoneKind,
    Security,
)
from twostep.interfaces.cli import directory_commands as commands
from twostep.interfaces.cli.directory_output import Counter, expected_entries
from twostep.services.directories import DirectoryView
from twostep.services.directory_progress import SyncCounts, SyncRecord


def test_the_choices_are_the_domains() -> None:
    assert tuple(k.value for k in DirectoryKind) == commands.KINDS
    assert tuple(s.value for s in Security) == commands.SECURITIES
    assert typing.get_args(PhoneKind) == commands.PHONE_KINDS
    assert set(commands.ATTRIBUTES) | {"user_id"} == set(AttributeMap.model_fields)


def test_options_make_the_settings() -> None:
    given = {
        "urls": ("ldaps://dc1", "ldaps://dc2"),
        "bind_dn": "cn=reader",
        "kind": None,
        "sync_interval": 0,
        "password_bind": False,
        "phone_methods": "sms, voice",
        "attributes": ("mobile=otherMobile", "user_id=sAMAccountName,mail"),
    }
    assert commands._values(given) == {
        "urls": ["ldaps://dc1", "ldaps://dc2"],
        "bind_dn": "cn=reader",
        "sync_interval": 0,
        "password_bind": False,
        "phone_methods": ["sms", "voice"],
        "attributes": {"mobile": "otherMobile", "user_id": ["sAMAccountName", "mail"]},
    }
    assert commands._values({"phone_methods": ""}) == {"phone_methods": []}
    for wrong in (
        {"phone_methods": "email"},
        {"attributes": ("mobile",)},
        {"attributes": ("x=y",)},
    ):
        with pytest.raises(click.BadParameter):
            commands._values(wrong)


def test_twostep_directory_is_the_same_group_unlisted() -> None:
    from twostep.interfaces.cli.main import cli

    assert isinstance(cli, click.Group)
    alias = cli.commands["directory"]
    assert isinstance(alias, click.Group) and alias.hidden
    assert alias.commands is commands.directories.commands
    assert "sync" in alias.commands
    assert "directory " not in cli.get_help(click.Context(cli))


def _view(record: SyncRecord | None, cursor: str | None = "usn:42") -> DirectoryView:
    settings = DirectorySettings.model_validate(
        {"urls": ["ldaps://dc1"], "bind_dn": "cn=r", "base_dn": "dc=x"}
    )
    directory = Directory("d1", 1, "corp", settings, sync_cursor=cursor)
    return DirectoryView(directory, True, record, None)


def test_a_full_sync_shows_a_bar_sized_by_the_last_full_one() -> None:
    now = 1_000_000.0
    last = SyncRecord("done", True, now - 60, now - 50, counts=SyncCounts(seen=10_000))
    last.last_full_at = now - 60
    assert expected_entries(_view(last), True, now) == 10_000
    assert expected_entries(_view(last, cursor=None), False, now) == 10_000
    assert expected_entries(_view(last), False, now) is None
    assert expected_entries(_view(None), True, now) is None
    failed = SyncRecord("failed", True, now - 60, now - 50, counts=SyncCounts(seen=3))
    assert expected_entries(_view(failed), True, now) is None

    line = Counter(enabled=True, expected=10_000).line(SyncCounts(seen=2_500, created=7))
    assert line.startswith("[######------------------]  25% of ~10,000  read 2,500")
    assert "created 7" in line
    over = Counter(enabled=True, expected=100).line(SyncCounts(seen=150))
    assert over.startswith("[" + "#" * 24 + "] 100%")
    assert Counter(enabled=True).line(SyncCounts(seen=5)).startswith("read 5  created 0")
