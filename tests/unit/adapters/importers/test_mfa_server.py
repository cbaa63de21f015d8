"""Reading Azure MFA Server's users (the document contrib/mfa-server-export.ps1 writes):
JSON or CSV, one record per user; phones to E.164 with their extension apart; every
refusal names the record, its username, the field and a stable code, never a secret."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twostep.adapters.importers.mfa_server import FIELDS, detect, read_mfa_server
from twostep.domain.migration import (
    DefaultMethod,
    MigrationRefused,
    OathSeed,
    Phone,
    PinMode,
    TextMode,
)

SEED = b"12345678901234567890"
SECRET = base64.b32encode(SEED).decode()


def document(*users: dict[str, Any], **top: Any) -> bytes:
    return json.dumps({"format": "mfa-server-users", "version": 1, **top, "users": users}).encode()


def refusal(data: bytes) -> MigrationRefused:
    with pytest.raises(MigrationRefused) as caught:
        read_mfa_server(data)
    return caught.value


def problems(data: bytes) -> list[tuple[str, str | None, str | None, str]]:
    """(where, username, field, code) of every problem."""
    return [(p.where, p.username, p.field, p.code) for p in refusal(data).problems]


ALICE = {
    "username": "alice@contoso.com",
    "firstName": "Alice",
    "lastName": "Archer",
    "email": "alice@contoso.com",
    "userGroup": "VPN users",
    "countryCode": "1",
    "phone": "201-555-0123",
    "extension": "890",
    "backupCountryCode": "1",
    "backupPhone": "(201) 555-0124",
    "defaultMethod": "Phone Call",
    "mode": "Standard",
    "textMessageMode": "OTP",
    "language": "en-US",
    "oathTokenSerialNumber": "HW-0001",
    "oathTokenSecretKey": SECRET,
    "oathTokenTimeInterval": "60",
    "mobileAppDevices": "0",
}


def test_a_json_record_carries_every_field_mfa_server_had() -> None:
    [alice] = read_mfa_server(document(ALICE))
    assert alice.place == "record 1"
    assert alice.username == "alice@contoso.com"
    assert (alice.first_name, alice.last_name, alice.email, alice.group) == (
        "Alice",
        "Archer",
        "alice@contoso.com",
        "VPN users",
    )
    assert alice.phone == Phone("+12015550123", "890")
    assert alice.backup_phone == Phone("+12015550124", None)
    assert alice.default_method is DefaultMethod.PHONE_CALL
    assert alice.mode is PinMode.STANDARD
    assert alice.text_mode is TextMode.OTP
    assert alice.language == "en-US"
    assert alice.oath == OathSeed("HW-0001", SEED, 60)
    assert alice.app_devices == 0


def test_the_same_user_as_csv_reads_the_same_with_lines_for_places() -> None:
    header = ",".join(ALICE)
    row = ",".join(f'"{v}"' for v in ALICE.values())
    [alice] = read_mfa_server(f"{header}\n{row}\n".encode())
    [from_json] = read_mfa_server(document(ALICE))
    assert alice.place == "line 2"
    assert alice == from_json.__class__(**{**_fields(from_json), "place": "line 2"})


def _fields(user: Any) -> dict[str, Any]:
    return {name: getattr(user, name) for name in user.__slots__}


def test_csv_headers_may_be_spelled_as_people_write_them() -> None:
    data = b"User Name,Country Code,Phone,Default Method,Text Message Mode\n" + (
        b"bob,44,07911 123456,text message,OTP+PIN\n"
    )
    [bob] = read_mfa_server(data)
    assert bob.phone == Phone("+447911123456")
    assert bob.default_method is DefaultMethod.TEXT_MESSAGE
    assert bob.text_mode is TextMode.OTP_PIN


@pytest.mark.parametrize(
    ("written", "extension"),
    [
        ("201-555-0123 x890", "890"),
        ("201-555-0123 X 890", "890"),
        ("201-555-0123 ext. 890", "890"),
        ("201-555-0123 ext 890", "890"),
        ("(201) 555-0123 #890", "890"),
        ("+1 201 555 0123 x7", "7"),
        ("201-555-0123", None),
    ],
)
def test_an_extension_written_inline_is_kept_apart(written: str, extension: str | None) -> None:
    [user] = read_mfa_server(document({"username": "u", "countryCode": 1, "phone": written}))
    assert user.phone == Phone("+12015550123", extension)


def test_an_inline_extension_and_the_extension_field_must_agree() -> None:
    data = document(
        {"username": "u", "countryCode": "1", "phone": "201-555-0123 x1", "extension": "2"}
    )
    assert problems(data) == [("record 1 (u)", "u", "extension", "invalid_extension")]
    same = document(
        {"username": "u", "countryCode": "1", "phone": "201-555-0123 x1", "extension": "1"}
    )
    assert read_mfa_server(same)[0].phone == Phone("+12015550123", "1")


def test_a_number_written_internationally_needs_no_country_code() -> None:
    [user] = read_mfa_server(document({"username": "u", "phone": "+82 10-2345-6789"}))
    assert user.phone == Phone("+821023456789")


def test_defaults_are_mfa_servers_own() -> None:
    [user] = read_mfa_server(document({"username": "u", "phone": "+12015550123"}))
    assert user.default_method is DefaultMethod.PHONE_CALL
    assert user.mode is PinMode.STANDARD
    assert user.text_mode is TextMode.OTP
    assert user.oath is None and user.backup_phone is None and user.app_devices == 0


@pytest.mark.parametrize(
    ("record", "field", "code"),
    [
        ({"phone": "+12015550123"}, "username", "missing_field"),
        ({"username": "a\u202eb", "phone": "+12015550123"}, "username", "invalid_value"),
        ({"username": "u", "phone": "201-555-0123"}, "phone", "invalid_phone"),
        ({"username": "u", "countryCode": "1", "phone": "555-123-4567"}, "phone", "invalid_phone"),
        ({"username": "u", "countryCode": "999", "phone": "1234"}, "countryCode", "invalid_phone"),
        (
            {"username": "u", "countryCode": "44", "phone": "+1 201 555 0123"},
            "phone",
            "invalid_phone",
        ),
        (
            {"username": "u", "phone": "+12015550123", "extension": "12a"},
            "extension",
            "invalid_extension",
        ),
        ({"username": "u", "backupExtension": "12"}, "backupExtension", "invalid_extension"),
        (
            {"username": "u", "phone": "+12015550123", "defaultMethod": "fax"},
            "defaultMethod",
            "invalid_value",
        ),
        ({"username": "u", "phone": "+12015550123", "mode": "loud"}, "mode", "invalid_value"),
        (
            {"username": "u", "phone": "+12015550123", "textMessageMode": "two"},
            "textMessageMode",
            "invalid_value",
        ),
        (
            {"username": "u", "phone": "+12015550123", "language": "english!"},
            "language",
            "invalid_value",
        ),
        ({"username": "u", "oathTokenSerialNumber": "1"}, "oathTokenSecretKey", "missing_field"),
        (
            {"username": "u", "oathTokenSerialNumber": "1", "oathTokenSecretKey": "not base32!"},
            "oathTokenSecretKey",
            "invalid_secret",
        ),
        (
            {
                "username": "u",
                "oathTokenSerialNumber": "1",
                "oathTokenSecretKey": SECRET,
                "oathTokenTimeInterval": "45",
            },
            "oathTokenTimeInterval",
            "invalid_value",
        ),
        (
            {"username": "u", "phone": "+12015550123", "mobileAppDevices": "-1"},
            "mobileAppDevices",
            "invalid_value",
        ),
        ({"username": "u", "phone": "+12015550123", "pin": "1234"}, "pin", "unknown_field"),
        ({"username": "u", "phone": ["+12015550123"]}, "phone", "invalid_value"),
    ],
)
def test_each_refusal_names_the_record_the_field_and_a_code(
    record: dict[str, Any], field: str, code: str
) -> None:
    ok = {"username": "ok", "phone": "+12015550124"}
    found = problems(document(ok, record))
    assert [(where.split(" (")[0], f, c) for where, _user, f, c in found] == [
        ("record 2", field, code)
    ]
    if "username" in record and field != "username":
        assert found[0][1] == record["username"]


def test_every_bad_record_is_listed_and_nothing_is_returned() -> None:
    data = document(
        {"username": "a", "phone": "nope"},
        {"username": "b", "phone": "+12015550123"},
        {"username": "c", "countryCode": "1", "phone": "+12015550123", "extension": "x"},
    )
    found = problems(data)
    assert [(where, code) for where, _u, _f, code in found] == [
        ("record 1 (a)", "invalid_phone"),
        ("record 3 (c)", "invalid_extension"),
    ]
    assert "record 1 (a): phone: [invalid_phone]" in refusal(data).message


def test_a_user_twice_or_a_serial_twice_is_refused_naming_the_first() -> None:
    token = {"oathTokenSerialNumber": "T1", "oathTokenSecretKey": SECRET}
    data = document(
        {"username": "Alice", **token},
        {"username": "ALICE", "phone": "+12015550123"},
        {"username": "bob", **token},
    )
    found = refusal(data).problems
    assert [(p.where, p.field, p.code) for p in found] == [
        ("record 2 (ALICE)", "username", "duplicate_user"),
        ("record 3 (bob)", "oathTokenSerialNumber", "duplicate_serial"),
    ]
    assert "record 1 (Alice)" in found[0].reason and "record 1 (Alice)" in found[1].reason


def test_a_secret_is_never_quoted_in_a_refusal_or_a_repr() -> None:
    bad = "ABCDEFGH\u0001SECRETPART"
    data = document(
        {"username": "u", "oathTokenSerialNumber": "1", "oathTokenSecretKey": bad},
        {"username": "v", "oathTokenSerialNumber": "2", "oathTokenSecretKey": "SECRETPART1!"},
    )
    assert "SECRETPART" not in str(refusal(data))
    [user] = read_mfa_server(
        document({"username": "u", "oathTokenSerialNumber": "1", "oathTokenSecretKey": SECRET})
    )
    assert SECRET not in repr(user) and repr(SEED) not in repr(user)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b'{"users": {}}', '"users" list'),
        (b'{"format": "other", "users": []}', "format"),
        (b'{"version": 2, "users": []}', "version"),
        (b'{"users": []}', "no users"),
        (b"username,phone\n", "no users"),
        (b"name,phone,color\nu,+12015550123,red\n", "unknown column"),
        (b"phone\n+12015550123\n", "header"),
    ],
)
def test_a_document_that_is_not_one_is_refused_whole(data: bytes, reason: str) -> None:
    refused = refusal(data)
    assert reason in str(refused)
    assert refused.code == "migration_refused"


def test_a_csv_row_wider_than_its_header_is_refused() -> None:
    found = problems(b"username,phone\nu,+12015550123,extra\n")
    assert found == [("line 2", None, None, "invalid_value")]


def test_the_format_comes_from_the_content_or_is_named() -> None:
    assert detect(b'\xef\xbb\xbf  {"users": []}') == "json"
    assert detect(b"username,phone\n") == "csv"
    csv_data = b"username,phone\nu,+12015550123\n"
    assert read_mfa_server(csv_data, "csv")[0].username == "u"
    assert "not valid JSON" in str(_refused(lambda: read_mfa_server(csv_data, "json")))


def _refused(call: Any) -> MigrationRefused:
    with pytest.raises(MigrationRefused) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    "name",
    [
        "alice@contoso.com",
        "Alice.Archer@Contoso.com",
        "o'brien@contoso.com",
        "first+tag@contoso.com",
        "svc_vpn-01",
        "CONTOSO-01",
        "a" * 128,
        "a" * 129,
        "user name",
        "Ålesund@contoso.no",
        "\uff46\uff55\uff4c\uff4c",  # full-width letters
    ],
)
def test_a_plain_name_reads_as_the_domain_rule_would_have_it(name: str) -> None:
    """The fast path for ASCII names agrees with domain.names, or defers to it."""
    from twostep.adapters.importers.mfa_server import plain_username
    from twostep.domain.errors import InvalidInput
    from twostep.domain.names import new_user_name

    try:
        expected: str | None = new_user_name(name).display
    except InvalidInput:
        expected = None
    try:
        found: str | None = plain_username(name)
    except InvalidInput:
        found = None
    assert found == expected


_VALUES = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
    st.sampled_from(["+12015550123", "201-555-0123 x\u0668", "\u00b2", "1", "Pin", SECRET]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from([*FIELDS, "extra"]), _VALUES, max_size=8),
        min_size=1,
        max_size=4,
    )
)
def test_any_json_document_is_read_or_refused_never_a_crash(users: list[dict[str, Any]]) -> None:
    try:
        read_mfa_server(json.dumps({"users": users}).encode())
    except MigrationRefused as refused:
        assert all(p.code for p in refused.problems)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_are_read_or_refused_never_a_crash(data: bytes) -> None:
    for fmt in (None, "csv", "json"):
        try:
            read_mfa_server(b"username,phone,countryCode,extension\n" + data, fmt)  # type: ignore[arg-type]
            read_mfa_server(data, fmt)  # type: ignore[arg-type]
        except MigrationRefused:
            pass
