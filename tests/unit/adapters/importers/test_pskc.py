"""PSKC import: the RFC 6030 figures, files from python-pskc's writer, corrupt and hostile files."""

from __future__ import annotations

import base64
import io
import time
import warnings

import pskc.parser
import pytest
from cryptography.utils import CryptographyDeprecationWarning
from pskc import PSKC

from tests.unit.adapters.importers import rfc6030_figures as rfc
from twostep.adapters.importers import ImportRefused, read_pskc
from twostep.domain.entities import OtpAlgorithm, OtpType

SEED = b"12345678901234567890"
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"


def refusal(data: bytes, **kwargs: object) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read_pskc(data, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "import_refused"
    return caught.value


def written(container: PSKC) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        # python-pskc's writer reaches Triple DES through cryptography's deprecated path.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        container.write(out)
    return out.getvalue()


def two_keys() -> PSKC:
    container = PSKC()
    container.add_key(
        id="k1",
        serial="TOTP-1",
        secret=SEED,
        algorithm=TOTP,
        algorithm_suite="HMAC-SHA256",
        response_length=8,
        time_interval=60,
        manufacturer="Acme",
        model="T60",
        start_date="2024-01-01T00:00:00Z",
        expiry_date="2030-01-01T00:00:00Z",
    )
    container.add_key(
        id="k2", serial="HOTP-1", secret=SEED * 2, algorithm=HOTP, counter=42, response_length=6
    )
    return container


# --- the RFC 6030 figures -------------------------------------------------------------


def test_figure_3_plain_key_value() -> None:
    (record,) = read_pskc(rfc.FIGURE_3)
    assert record.serial == "987654321"
    assert record.key_id == "12345678"
    assert record.seed == SEED
    assert record.params.type is OtpType.HOTP
    assert record.params.digits == 8
    assert record.counter == 0
    assert record.manufacturer == "Manufacturer"
    assert record.upn is None  # a directory DN in UserId is not a user name


def test_figure_2_four_byte_secret_is_refused_by_key_id() -> None:
    problem = refusal(rfc.FIGURE_2).problems[0]
    assert problem.key_id == "12345678"
    assert "10 to 128 bytes" in problem.reason


def test_figure_6_pre_shared_aes128_cbc_key() -> None:
    (record,) = read_pskc(rfc.FIGURE_6, key=rfc.FIGURE_6_KEY)
    assert record.seed == SEED
    assert (record.serial, record.key_id, record.params.digits) == ("987654321", "12345678", 8)


def test_figure_7_pbkdf2_password() -> None:
    (record,) = read_pskc(rfc.FIGURE_7, password=rfc.FIGURE_7_PASSWORD)
    assert record.seed == SEED
    assert record.manufacturer == "TokenVendorAcme"
    assert record.key_id == "123456"


def test_figure_6_needs_the_key_and_refuses_a_wrong_one() -> None:
    assert "pre-shared key" in refusal(rfc.FIGURE_6).message
    wrong = refusal(rfc.FIGURE_6, key=bytes(16)).message
    assert "wrong key or password" in wrong
    assert "16" in refusal(rfc.FIGURE_6, key=bytes(32)).message


def test_figure_7_refuses_a_wrong_password() -> None:
    assert "wrong key or password" in refusal(rfc.FIGURE_7, password="qwertz").message
    assert "password" in refusal(rfc.FIGURE_7).message


def test_a_tampered_mac_is_refused_before_decryption(monkeypatch: pytest.MonkeyPatch) -> None:
    tampered = rfc.FIGURE_6.replace(
        b"Su+NvtQfmvfJzF6bmQiJqoLRExc=", b"Tu+NvtQfmvfJzF6bmQiJqoLRExc="
    )
    from twostep.adapters.importers import pskc_crypto

    real_decrypt = pskc_crypto.decrypt
    decrypted: list[int] = []

    def spy(name: str, key: bytes, value: bytes, iv: bytes | None = None) -> bytes:
        decrypted.append(len(value))
        return real_decrypt(name, key, value, iv)

    monkeypatch.setattr(pskc_crypto, "decrypt", spy)
    problem = refusal(tampered, key=rfc.FIGURE_6_KEY).problems[0]
    assert problem.key_id == "12345678"
    assert problem.serial == "987654321"
    assert "MAC of the secret does not match" in problem.reason
    assert decrypted == [48]  # only the MAC key (IV + 32 bytes), never the secret


def test_tampered_ciphertext_is_refused() -> None:
    cipher = b"AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv"
    raw = bytearray(base64.b64decode(cipher))
    raw[20] ^= 1
    tampered = rfc.FIGURE_6.replace(cipher, base64.b64encode(bytes(raw)))
    assert "does not match" in refusal(tampered, key=rfc.FIGURE_6_KEY).message


def test_a_cbc_value_without_a_mac_is_refused() -> None:
    stripped = rfc.FIGURE_6.replace(b"<ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=", b"<!-- -->")
    stripped = stripped.replace(b"</ValueMAC>", b"")
    assert "has no MAC" in refusal(stripped, key=rfc.FIGURE_6_KEY).message


# --- files from python-pskc's writer ----------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "key_length"),
    [("aes128-cbc", 16), ("aes256-cbc", 32), ("tripledes-cbc", 24), ("tripledes-cbc", 16)],
)
@pytest.mark.parametrize("mac", ["hmac-sha1", "hmac-sha256"])
def test_pre_shared_key_variants(algorithm: str, key_length: int, mac: str) -> None:
    container = two_keys()
    key = bytes(range(1, key_length + 1))
    container.mac.setup(algorithm=mac)
    container.encryption.setup_preshared_key(
        key=key, algorithm=algorithm, fields=["secret", "counter"]
    )
    data = written(container)
    totp, hotp = read_pskc(data, key=key)
    assert (totp.serial, totp.seed, totp.params.period, totp.params.digits) == (
        "TOTP-1",
        SEED,
        60,
        8,
    )
    assert totp.params.algorithm is OtpAlgorithm.SHA256
    assert (totp.manufacturer, totp.model) == ("Acme", "T60")
    assert totp.valid_from == 1704067200.0
    assert totp.valid_until == 1893456000.0
    assert (hotp.serial, hotp.seed, hotp.counter) == ("HOTP-1", SEED * 2, 42)
    assert hotp.params.type is OtpType.HOTP
    wrong = refusal(data, key=bytes(key_length)).message
    assert "wrong key or password" in wrong


def test_key_wrap_variant() -> None:
    container = two_keys()
    key = bytes(range(32))
    container.encryption.setup_preshared_key(key=key, algorithm="kw-aes256")
    records = read_pskc(written(container), key=key)
    assert [r.seed for r in records] == [SEED, SEED * 2]


@pytest.mark.parametrize(
    ("prf", "iterations", "algorithm"),
    [
        (None, 10, "aes128-cbc"),
        ("hmac-sha1", 50, "aes256-cbc"),
        ("hmac-sha256", 20, "aes256-cbc"),
        ("hmac-sha512", 7, "aes128-cbc"),
        ("hmac-sha256", 10, "tripledes-cbc"),
    ],
)
def test_pbkdf2_variants(prf: str | None, iterations: int, algorithm: str) -> None:
    container = two_keys()
    container.encryption.setup_pbkdf2(
        "correct horse", algorithm=algorithm, iterations=iterations, prf=prf
    )
    data = written(container)
    assert [r.seed for r in read_pskc(data, password="correct horse")] == [SEED, SEED * 2]
    assert "wrong key or password" in refusal(data, password="wrong horse").message


def test_an_absurd_pbkdf2_cost_is_refused_without_deriving() -> None:
    container = two_keys()
    container.encryption.setup_pbkdf2("pw", iterations=1)
    data = written(container).replace(b"<IterationCount>1<", b"<IterationCount>999999999<")
    started = time.monotonic()
    assert "above the limit" in refusal(data, password="pw").message
    assert time.monotonic() - started < 1


def test_unsupported_keys_are_all_listed() -> None:
    container = PSKC()
    container.add_key(
        id="o1",
        serial="OCRA-1",
        secret=SEED,
        algorithm="urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1",
    )
    container.add_key(
        id="m1", serial="MD5-1", secret=SEED, algorithm=HOTP, algorithm_suite="HMAC-MD5"
    )
    container.add_key(id="d1", serial="D7", secret=SEED, algorithm=HOTP, response_length=7)
    container.add_key(id="p1", serial="P45", secret=SEED, algorithm=TOTP, time_interval=45)
    container.add_key(id="n1", serial="NOSECRET", algorithm=TOTP)
    container.add_key(
        id="h1", serial="HEX", secret=SEED, algorithm=HOTP, response_encoding="HEXADECIMAL"
    )
    container.add_key(id="ok", serial="GOOD", secret=SEED, algorithm=TOTP)
    container.add_key(id="dup", serial="GOOD", secret=SEED, algorithm=TOTP)
    problems = refusal(written(container)).problems
    by_key = {p.key_id: p.reason for p in problems}
    assert set(by_key) == {"o1", "m1", "d1", "p1", "n1", "h1", "dup"}
    assert "only HOTP and TOTP" in by_key["o1"]
    assert "SHA1, SHA256 or SHA512" in by_key["m1"]
    assert "6 or 8" in by_key["d1"]
    assert "30 or 60" in by_key["p1"]
    assert "no secret" in by_key["n1"]
    assert "DECIMAL" in by_key["h1"]
    assert "appears twice" in by_key["dup"]
    assert "key dup (serial GOOD)" in str(problems[-1])


def test_policy_forbidding_otp_use_is_refused() -> None:
    container = PSKC()
    key = container.add_key(id="c", serial="C1", secret=SEED, algorithm=HOTP)
    key.policy.key_usage = ["CR"]
    assert "does not allow OTP" in refusal(written(container)).message


def test_an_empty_container_and_junk_are_refused() -> None:
    assert "no keys" in refusal(written(PSKC())).message
    assert "well-formed" in refusal(b"<KeyContainer><Key>").message
    assert "not a valid PSKC" in refusal(b"<html/>").message


# --- hostile XML ------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
 <KeyPackage><DeviceInfo><Manufacturer>&lol9;</Manufacturer></DeviceInfo></KeyPackage>
</KeyContainer>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
 <KeyPackage><DeviceInfo><SerialNo>&xxe;</SerialNo></DeviceInfo></KeyPackage>
</KeyContainer>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer SYSTEM "http://127.0.0.1:9/evil.dtd">
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>
"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_hostile_xml_is_refused_quickly(document: bytes) -> None:
    started = time.monotonic()
    message = refusal(document).message
    assert time.monotonic() - started < 0.5
    assert "possible XML attack" in message
    assert "root:" not in message


def test_python_pskc_file_reader_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # python-pskc's reader would use lxml when installed; ours streams through expat.
    def forbidden(*_args: object) -> None:
        raise AssertionError("pskc.xml.parse called")

    monkeypatch.setattr(pskc.parser, "parse", forbidden)
    assert read_pskc(rfc.FIGURE_3)[0].serial == "987654321"


def test_no_seed_in_any_message() -> None:
    container = two_keys()
    container.add_key(id="bad", serial="TOTP-1", secret=SEED, algorithm=TOTP)
    refused = refusal(written(container))
    text = str(refused) + repr(refused.problems)
    assert SEED.decode() not in text
    assert base64.b64encode(SEED).decode() not in text
