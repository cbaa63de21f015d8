"""A PSKC file read one KeyPackage at a time reads as python-pskc reads the whole
document; what only a whole document allowed is refused or skipped, and a refusal lists
at most MAX_PROBLEMS problems."""

from __future__ import annotations

import pytest

from tests.unit.adapters.importers import rfc6030_figures as rfc
from twostep.adapters.importers import ImportRefused, read_pskc, xml_limits
from twostep.adapters.importers.pskc import MAX_PROBLEMS

CONTAINER = b'<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">'
SIGNATURE = (
    b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/>'
    b"<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>"
)


def refusal(data: bytes, **kwargs: object) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read_pskc(data, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "import_refused"
    return caught.value


def test_a_signature_and_extensions_after_the_keys_are_skipped() -> None:
    data = rfc.FIGURE_3.replace(
        b"</KeyContainer>", SIGNATURE + b"<Extensions><Anything/></Extensions></KeyContainer>"
    )
    (record,) = read_pskc(data)
    assert record.serial == "987654321"


def test_key_packages_without_a_key_are_skipped() -> None:
    device_only = b"<KeyPackage><DeviceInfo><SerialNo>D1</SerialNo></DeviceInfo></KeyPackage>"
    data = rfc.FIGURE_3.replace(b"<KeyPackage>", device_only + b"<KeyPackage>", 1)
    assert [r.serial for r in read_pskc(data)] == ["987654321"]
    assert "holds no keys" in refusal(CONTAINER + device_only * 3 + b"</KeyContainer>").message


def test_the_encryption_settings_come_before_the_keys() -> None:
    # The keys are read as they arrive, and python-pskc reads an encrypted value
    # according to the encryption settings: after a KeyPackage they come too late.
    start = rfc.FIGURE_6.index(b"<EncryptionKey>")
    end = rfc.FIGURE_6.index(b"</EncryptionKey>") + len(b"</EncryptionKey>")
    settings = rfc.FIGURE_6[start:end]
    moved = rfc.FIGURE_6.replace(settings, b"").replace(
        b"</KeyContainer>", settings + b"</KeyContainer>"
    )
    message = refusal(moved, key=rfc.FIGURE_6_KEY).message
    assert "its EncryptionKey comes after a KeyPackage" in message


def test_the_mac_settings_may_come_anywhere() -> None:
    start = rfc.FIGURE_6.index(b"<MACMethod")
    end = rfc.FIGURE_6.index(b"</MACMethod>") + len(b"</MACMethod>")
    mac = rfc.FIGURE_6[start:end]
    moved = rfc.FIGURE_6.replace(mac, b"").replace(b"</KeyContainer>", mac + b"</KeyContainer>")
    (record,) = read_pskc(moved, key=rfc.FIGURE_6_KEY)
    assert record.seed == b"12345678901234567890"


def _keys_without_a_secret(count: int, then: bytes = b"") -> bytes:
    packages = b"".join(
        b'<KeyPackage><Key Id="k%d" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"/>'
        b"</KeyPackage>" % n
        for n in range(count)
    )
    return CONTAINER + packages + then + b"</KeyContainer>"


def test_every_problem_is_listed_up_to_the_most_a_refusal_lists() -> None:
    problems = refusal(_keys_without_a_secret(MAX_PROBLEMS)).problems
    assert len(problems) == MAX_PROBLEMS
    assert {p.reason for p in problems} == {"the key has no secret"}
    assert problems[-1].key_id == f"k{MAX_PROBLEMS - 1}"


def test_past_the_most_a_refusal_lists_the_rest_of_the_file_is_not_read() -> None:
    # Read in chunks: past the chunk the last listed problem is in, nothing is parsed.
    broken = b" " * 2 * xml_limits.CHUNK + b"<not-read"
    problems = refusal(_keys_without_a_secret(MAX_PROBLEMS + 1, then=broken)).problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].where == "file"
    assert problems[-1].reason == (
        f"more than {MAX_PROBLEMS} problems: the rest of the file was not checked"
    )


def test_an_overlong_version_is_not_echoed_whole() -> None:
    data = rfc.FIGURE_3.replace(b'Version="1.0"', b'Version="' + b"9" * 5000 + b'"')
    message = refusal(data).message
    assert "Unsupported version" in message
    assert len(message) < 200
