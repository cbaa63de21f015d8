"""PSKC files as vendors and older tools write them: several keys for one device, keys
Twostep does not use, TimeDrift, check digits, keys without an Id, and the MAC
constructions before RFC 6030."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.ciphers.algorithms import AES
from pskc import PSKC

from tests.unit.adapters.importers import rfc6030_figures as rfc
from tests.unit.adapters.importers.oath_codes import hotp_code, totp_code
from twostep.adapters.importers import ImportRefused, MacOptions, read_pskc_file
from twostep.domain.entities import OtpType
from twostep.domain.tokens import TokenFile
from twostep.factors.otp import hotp, time_step

SEED = b"12345678901234567890"
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
YUBICO_OTP = "http://www.yubico.com/#yubikey-aes"


def written(container: PSKC) -> bytes:
    out = io.BytesIO()
    container.write(out)
    return out.getvalue()


def refusal(data: bytes, **kwargs: object) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read_pskc_file(data, **kwargs)  # type: ignore[arg-type]
    return caught.value


# --- several keys of one device ----------------------------------------------------------


def test_figure_5_imports_the_hotp_key_and_lists_the_pin_key_as_skipped() -> None:
    read = read_pskc_file(rfc.FIGURE_5)
    (record,) = read.records
    assert (record.serial, record.params.type, record.params.digits) == (
        "987654321",
        OtpType.HOTP,
        8,
    )
    assert [hotp(record.seed, record.params, c) for c in range(3)] == [
        hotp_code(SEED, c, 8) for c in range(3)
    ]
    (skipped,) = read.skipped
    assert skipped.where == "key 123456781 (serial 987654321)"
    assert "PIN" in skipped.reason


def test_a_file_of_only_unused_keys_is_refused_and_says_what_it_held() -> None:
    container = PSKC()
    container.add_key(id="p", serial="P1", secret=b"1234", algorithm=rfc.PIN_ALGORITHM)
    message = refusal(written(container)).message
    assert "no HOTP or TOTP key" in message and "PIN" in message


def test_one_yubikey_s_two_oath_slots_get_the_slot_as_suffix() -> None:
    container = PSKC()
    for slot, seed in (("1", SEED), ("2", SEED[::-1])):
        container.add_key(
            id=f"5551234:{slot}",
            serial="5551234",
            crypto_module=slot,
            manufacturer="Yubico",
            secret=seed,
            algorithm=HOTP,
            response_length=6,
            counter=0,
        )
    container.add_key(
        id="5559999:1", serial="5559999", crypto_module="1", secret=SEED * 2, algorithm=YUBICO_OTP
    )
    read = read_pskc_file(written(container))
    assert [r.serial for r in read.records] == ["5551234:1", "5551234:2"]
    assert read.records[1].seed == SEED[::-1]
    assert any("5551234:2" in w for w in read.warnings)
    assert [s.where for s in read.skipped] == ["key 5559999:1 (serial 5559999)"]


def test_one_serial_without_distinct_slots_is_still_refused() -> None:
    container = PSKC()
    container.add_key(id="a", serial="S1", crypto_module="1", secret=SEED, algorithm=HOTP)
    container.add_key(id="b", serial="S1", crypto_module="1", secret=SEED, algorithm=HOTP)
    (problem,) = refusal(written(container)).problems
    assert problem.key_id == "b"
    assert "appears twice" in problem.reason and "distinct slots" in problem.reason


# --- fields that change the codes --------------------------------------------------------


@pytest.mark.parametrize("drift", [4, -122])
def test_time_drift_is_the_initial_step_offset(drift: int) -> None:
    container = PSKC()
    container.add_key(
        id="t", serial="T1", secret=SEED, algorithm=TOTP, time_interval=30, time_drift=drift
    )
    (record,) = read_pskc_file(written(container)).records
    assert record.drift == drift
    # The token's clock is ``drift`` steps off: the code it shows now is the one for
    # the server's step plus the drift.
    now = 1_800_000_000
    shown = totp_code(SEED, now + drift * 30)
    assert hotp(record.seed, record.params, time_step(now, 30) + record.drift) == shown


def test_check_digits_are_refused_by_name() -> None:
    container = PSKC()
    key = container.add_key(id="c", serial="C1", secret=SEED, algorithm=HOTP, response_length=6)
    key.response_check = True
    assert b'CheckDigits="true"' in written(container)
    (problem,) = refusal(written(container)).problems
    assert problem.where == "key c (serial C1)"
    assert "Luhn check digit" in problem.reason and "never verify" in problem.reason


def test_keys_without_id_or_serial_are_named_by_position() -> None:
    container = PSKC()
    container.add_key(secret=SEED, algorithm=HOTP, serial="FIRST")
    container.add_key(secret=SEED[:4], algorithm=HOTP)
    problems = refusal(written(container)).problems
    assert {p.where for p in problems} == {"key #2"}
    assert all("file" not in str(p).split(":")[0] for p in problems)


# --- MAC constructions before RFC 6030 ---------------------------------------------------

KEY = bytes(range(16))
IV = bytes(range(100, 116))


def _cbc(plaintext: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(AES(KEY), modes.CBC(IV)).encryptor()
    return IV + encryptor.update(padded) + encryptor.finalize()


def legacy_file(mac: bytes | None) -> bytes:
    """An encrypted file as drafts before RFC 6030 wrote them: no MACKey (the encryption
    key is the MAC key) and, when ``mac`` is given, that ValueMAC; without it no MAC at all."""
    method = '<MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"/>' if mac else ""
    value_mac = f"<ValueMAC>{base64.b64encode(mac).decode()}</ValueMAC>" if mac else ""
    cipher = base64.b64encode(_cbc(SEED)).decode()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
  <EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></EncryptionKey>
  {method}
  <KeyPackage>
    <DeviceInfo><SerialNo>LEGACY1</SerialNo></DeviceInfo>
    <Key Algorithm="{HOTP}">
      <AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>
      <Data>
        <Secret>
          <EncryptedValue>
            <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <xenc:CipherData><xenc:CipherValue>{cipher}</xenc:CipherValue></xenc:CipherData>
          </EncryptedValue>
          {value_mac}
        </Secret>
        <Counter><PlainValue>0</PlainValue></Counter>
      </Data>
    </Key>
  </KeyPackage>
</KeyContainer>
""".encode()


PLAINTEXT_MAC = legacy_file(hmac.new(KEY, SEED, hashlib.sha1).digest())


def test_a_mac_over_the_plaintext_is_refused_with_its_own_reason() -> None:
    (problem,) = refusal(PLAINTEXT_MAC, key=KEY).problems
    assert problem.where == "serial LEGACY1"
    assert "over the plaintext" in problem.reason and "--plaintext-mac" in problem.reason


def test_a_mac_over_the_plaintext_is_accepted_when_asked_once_it_verifies() -> None:
    read = read_pskc_file(PLAINTEXT_MAC, key=KEY, options=MacOptions(plaintext_mac=True))
    (record,) = read.records
    assert hotp(record.seed, record.params, 0) == hotp_code(SEED, 0)
    assert any("over the plaintext" in w for w in read.warnings)


def test_a_wrong_mac_is_refused_even_with_the_plaintext_option() -> None:
    wrong = legacy_file(hmac.new(KEY, SEED[::-1], hashlib.sha1).digest())
    (problem,) = refusal(wrong, key=KEY, options=MacOptions(plaintext_mac=True)).problems
    assert "matches neither" in problem.reason
    other_key = refusal(PLAINTEXT_MAC, key=bytes(16), options=MacOptions(plaintext_mac=True))
    assert "wrong key or password" in other_key.message


def test_a_file_without_any_mac_is_refused_unless_asked() -> None:
    bare = legacy_file(None)
    assert "the file has no MAC" in refusal(bare, key=KEY).message
    read: TokenFile = read_pskc_file(bare, key=KEY, options=MacOptions(no_mac=True))
    assert read.records[0].seed == SEED
    assert any("no MAC" in w for w in read.warnings)
