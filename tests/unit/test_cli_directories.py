"""`twostep directories`: its plain words are the domain's, and its options make the
settings the service takes (unset options left out)."""

from __future__ import annotations

import typing

import click
import pytest

from twostep.domain.directory import AttributeMap, DirectoryKind, PhoneKind, Security
from twostep.interfaces.cli import directory_commands as commands


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
