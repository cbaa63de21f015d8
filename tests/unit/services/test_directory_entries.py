"""Which of a directory entry's numbers becomes the user's phone (MFA Server's attributes)."""

from __future__ import annotations

from typing import Any

import pytest

from twostep.domain.directory import AttributeMap, DirectoryEntry
from twostep.services.directory_entries import Mapped, map_entry


def phone(**numbers: Any) -> str | None:
    entry = DirectoryEntry(
        external_id="e1", dn="cn=a,dc=example", user_id="a@example.test", **numbers
    )
    mapped = map_entry(entry)
    assert isinstance(mapped, Mapped)
    return mapped.user.phone


def test_the_defaults_are_mfa_servers_attributes() -> None:
    mapping = AttributeMap()
    assert mapping.user_id == ("userPrincipalName", "sAMAccountName")
    assert (mapping.first_name, mapping.last_name, mapping.email) == ("givenName", "sn", "mail")
    assert (mapping.phone, mapping.mobile, mapping.home_phone) == (
        "telephoneNumber",
        "mobile",
        "homePhone",
    )
    assert (mapping.pager, mapping.fax, mapping.ip_phone) == (
        "pager",
        "facsimileTelephoneNumber",
        "ipPhone",
    )
    assert mapping.extension is None


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ({"mobile": "+44 7911 123456", "phone": "+44 20 7946 0001"}, "+447911123456"),
        ({"phone": "+44 20 7946 0001", "home_phone": "+44 20 7946 0002"}, "+442079460001"),
        ({"home_phone": "+44 20 7946 0002", "ip_phone": "+44 20 7946 0003"}, "+442079460002"),
        ({"ip_phone": "+44 20 7946 0003"}, "+442079460003"),
        # an office number with an extension reaches the switchboard: the next one is taken
        (
            {"phone": "+44 20 7946 0001", "extension": "890", "ip_phone": "+44 20 7946 0003"},
            "+442079460003",
        ),
        # a pager or a fax can neither answer a call nor read a text
        ({"pager": "+44 20 7946 0004", "fax": "+44 20 7946 0005"}, None),
        # a number without its country code is passed over for the next
        ({"mobile": "07911 123456", "home_phone": "+44 20 7946 0002"}, "+442079460002"),
    ],
)
def test_the_first_callable_number_is_the_phone(
    numbers: dict[str, str], expected: str | None
) -> None:
    assert phone(**numbers) == expected


def test_an_attribute_name_is_checked() -> None:
    with pytest.raises(ValueError, match="not an LDAP attribute name"):
        AttributeMap(extension="no spaces allowed")
