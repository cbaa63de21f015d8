"""An LDAP entry read through the attribute map: what a DirectoryEntry holds."""

from __future__ import annotations

import uuid

import pytest

from twostep.adapters.directory.entries import normalise, requested, to_entry
from twostep.domain.directory import AttributeMap, DirectoryKind, DirectorySettings

DN = "CN=Alice Liddell,OU=People,DC=corp,DC=example"
GUID = uuid.UUID("6f9619ff-8b86-d011-b42d-00c04fc964ff")


def settings(
    kind: DirectoryKind = DirectoryKind.ACTIVE_DIRECTORY, **fields: object
) -> DirectorySettings:
    return DirectorySettings(
        kind=kind, urls=("ldaps://dc1.corp.example",), bind_dn="CN=r", base_dn="DC=corp", **fields
    )


def ad_user(**overrides: list[bytes]) -> dict[str, list[bytes]]:
    attributes = {
        "objectGUID": [GUID.bytes_le],
        "userPrincipalName": [b"alice@corp.example"],
        "sAMAccountName": [b"alice"],
        "givenName": [b"Alice"],
        "sn": [b"Liddell"],
        "mail": [b"alice@corp.example"],
        "telephoneNumber": [b"+1 555 0100"],
        "mobile": [b"+1 555 0199"],
        "memberOf": [b"CN=MFA,OU=Groups,DC=corp", b"CN=Staff,OU=Groups,DC=corp"],
        "userAccountControl": [b"512"],
    }
    attributes.update(overrides)
    return normalise(attributes)


def test_an_ad_user_is_read_through_the_default_map() -> None:
    entry = to_entry(DN, ad_user(), settings())

    assert entry is not None
    assert entry.external_id == "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    assert entry.dn == DN
    assert entry.user_id == "alice@corp.example"
    assert (entry.first_name, entry.last_name) == ("Alice", "Liddell")
    assert entry.email == "alice@corp.example"
    assert (entry.phone, entry.mobile) == ("+1 555 0100", "+1 555 0199")
    assert entry.groups == ("CN=MFA,OU=Groups,DC=corp", "CN=Staff,OU=Groups,DC=corp")
    assert entry.disabled is False


def test_object_guid_is_the_guid_string_ad_shows_mixed_endian_bytes_and_all() -> None:
    # Microsoft's own example: these 16 bytes are {6F9619FF-8B86-D011-B42D-00C04FC964FF}
    # (the first three fields are stored little-endian).
    raw = bytes.fromhex("ff19966f868b11d0b42d00c04fc964ff")
    entry = to_entry(DN, ad_user(objectGUID=[raw]), settings())

    assert entry is not None
    assert entry.external_id == "6f9619ff-8b86-d011-b42d-00c04fc964ff"


@pytest.mark.parametrize(
    ("flags", "disabled"),
    [(b"512", False), (b"514", True), (b"66050", True), (b"66048", False), (b"2", True)],
)
def test_userAccountControl_bit_2_is_disabled(flags: bytes, disabled: bool) -> None:  # noqa: N802
    entry = to_entry(DN, ad_user(userAccountControl=[flags]), settings())

    assert entry is not None
    assert entry.disabled is disabled


def test_the_first_user_id_attribute_present_wins() -> None:
    no_upn = ad_user(userPrincipalName=[])
    blank_upn = ad_user(userPrincipalName=[b"  "])

    for attributes in (no_upn, blank_upn):
        entry = to_entry(DN, attributes, settings())
        assert entry is not None
        assert entry.user_id == "alice"


def test_an_entry_without_any_user_id_attribute_keeps_a_none_user_id() -> None:
    entry = to_entry(DN, ad_user(userPrincipalName=[], sAMAccountName=[]), settings())

    assert entry is not None
    assert entry.user_id is None


def test_missing_attributes_are_none_and_no_groups_is_empty() -> None:
    attributes = normalise({"objectGUID": [GUID.bytes_le], "sAMAccountName": [b"bob"]})

    entry = to_entry(DN, attributes, settings())

    assert entry is not None
    assert (entry.first_name, entry.last_name, entry.email) == (None, None, None)
    assert (entry.phone, entry.mobile, entry.groups, entry.disabled) == (None, None, (), False)


def test_a_multi_valued_attribute_gives_its_first_value() -> None:
    entry = to_entry(DN, ad_user(mobile=[b"+1 555 0001", b"+1 555 0002"]), settings())

    assert entry is not None
    assert entry.mobile == "+1 555 0001"


def test_an_entry_without_its_external_id_is_not_taken() -> None:
    assert to_entry(DN, ad_user(objectGUID=[]), settings()) is None


def test_attribute_names_are_case_insensitive_and_options_are_dropped() -> None:
    attributes = normalise(
        {
            "OBJECTGUID": [GUID.bytes_le],
            "userprincipalname": [b"alice@corp.example"],
            "memberOf;range=0-1": [b"CN=A,DC=corp", b"CN=B,DC=corp"],
            "memberof;range=2-*": [b"CN=C,DC=corp"],
        }
    )

    entry = to_entry(DN, attributes, settings())

    assert entry is not None
    assert entry.user_id == "alice@corp.example"
    assert entry.groups == ("CN=A,DC=corp", "CN=B,DC=corp", "CN=C,DC=corp")


def test_text_is_utf8() -> None:
    entry = to_entry(DN, ad_user(givenName=["Zoë".encode()], sn=["김".encode()]), settings())

    assert entry is not None
    assert (entry.first_name, entry.last_name) == ("Zoë", "김")


def test_the_ldap_kind_reads_entry_uuid_in_lower_case() -> None:
    attributes = normalise(
        {"entryUUID": [b"7C2E9A10-8484-1041-9BA7-F169D3C83F01"], "uid": [b"carol"]}
    )
    mapping = AttributeMap(user_id=("uid",))

    entry = to_entry(DN, attributes, settings(DirectoryKind.LDAP, attributes=mapping))

    assert entry is not None
    assert entry.external_id == "7c2e9a10-8484-1041-9ba7-f169d3c83f01"
    assert entry.user_id == "carol"


def test_a_mapped_binary_external_id_that_is_not_a_guid_is_hex() -> None:
    mapping = AttributeMap(external_id="employeeBadge")
    attributes = normalise({"employeeBadge": [b"\x00\xffid"], "sAMAccountName": [b"d"]})

    entry = to_entry(DN, attributes, settings(attributes=mapping))

    assert entry is not None
    assert entry.external_id == "00ff6964"


def test_the_mapping_decides_which_attributes_hold_what() -> None:
    mapping = AttributeMap(
        user_id=("sAMAccountName",), first_name="displayName", mobile="otherMobile"
    )
    attributes = ad_user(displayName=[b"Ally"], otherMobile=[b"+44 7700 900123"])

    entry = to_entry(DN, attributes, settings(attributes=mapping))

    assert entry is not None
    assert (entry.user_id, entry.first_name, entry.mobile) == ("alice", "Ally", "+44 7700 900123")


def test_a_scan_asks_for_the_mapped_attributes_and_the_kinds_change_mark() -> None:
    ad = requested(settings())
    ldap = requested(settings(DirectoryKind.LDAP))

    assert ad[:2] == ["userPrincipalName", "sAMAccountName"]
    assert {"objectGUID", "memberOf", "userAccountControl", "uSNChanged"} <= set(ad)
    assert "modifyTimestamp" not in ad
    assert {"entryUUID", "modifyTimestamp"} <= set(ldap)
    assert "uSNChanged" not in ldap
    assert len(ad) == len({a.lower() for a in ad})
