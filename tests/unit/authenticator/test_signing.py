"""The two signatures of docs/device-api.md, verified with the public key alone."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from twostep.authenticator.errors import KeystoreError
from twostep.authenticator.signing import (
    DeviceKey,
    KeyType,
    answer_signature,
    authorization,
    b64url,
    b64url_decode,
)

HEADER = re.compile(r"TwostepDevice id=(\S+), ts=(\d+), sig=([A-Za-z0-9_-]+)")


def unb64(text: str) -> bytes:
    assert "=" not in text  # base64url without padding
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_with_public(key: DeviceKey, signature: bytes, message: str) -> None:
    """Raises InvalidSignature. Only the public bytes the server gets are used."""
    public = unb64(key.public_key_b64())
    if key.key_type is KeyType.ED25519:
        assert len(public) == 32
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, message.encode())
    else:
        assert len(public) == 65 and public[0] == 0x04  # SEC1 uncompressed
        point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
        point.verify(signature, message.encode(), ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("key_type", list(KeyType))
def test_authorization_header_signs_method_path_and_time(key_type: KeyType) -> None:
    key = DeviceKey.generate(key_type)
    header = authorization(key, "dev_3f", "get", "/v1/devices/dev_3f/requests?wait=30", 1795000000)
    match = HEADER.fullmatch(header)
    assert match is not None, header
    assert match[1] == "dev_3f" and match[2] == "1795000000"
    signature = unb64(match[3])
    verify_with_public(key, signature, "GET\n/v1/devices/dev_3f/requests?wait=30\n1795000000")
    with pytest.raises(InvalidSignature):
        verify_with_public(key, signature, "GET\n/v1/devices/dev_3f/requests?wait=29\n1795000000")


@pytest.mark.parametrize("key_type", list(KeyType))
def test_answer_signature_covers_prefix_transaction_decision_number_nonce(
    key_type: KeyType,
) -> None:
    key = DeviceKey.generate(key_type)
    signature = unb64(answer_signature(key, "tx_1", "approve", 42, "bm9uY2U"))
    verify_with_public(key, signature, "twostep-push-v1\ntx_1\napprove\n42\nbm9uY2U")
    with pytest.raises(InvalidSignature):
        verify_with_public(key, signature, "twostep-push-v1\ntx_1\napprove\n43\nbm9uY2U")


def test_answer_without_number_signs_an_empty_line() -> None:
    key = DeviceKey.generate()
    for decision in ("deny", "fraud"):
        signature = unb64(answer_signature(key, "tx_9", decision, None, "n0"))
        verify_with_public(key, signature, f"twostep-push-v1\ntx_9\n{decision}\n\nn0")


def test_number_is_written_in_decimal_without_leading_zero() -> None:
    key = DeviceKey.generate()
    signature = unb64(answer_signature(key, "tx", "approve", 7, "n"))
    verify_with_public(key, signature, "twostep-push-v1\ntx\napprove\n7\nn")


def test_p256_signature_is_der() -> None:
    key = DeviceKey.generate(KeyType.P256)
    signature = unb64(answer_signature(key, "tx", "deny", None, "n"))
    assert signature[0] == 0x30  # a DER SEQUENCE
    r, s = decode_dss_signature(signature)
    assert r > 0 and s > 0


@pytest.mark.parametrize("key_type", list(KeyType))
def test_private_key_round_trips_as_pkcs8_pem(key_type: KeyType) -> None:
    key = DeviceKey.generate(key_type)
    pem = key.to_pem()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    again = DeviceKey.from_pem(pem)
    assert again.key_type is key_type
    assert again.public_bytes() == key.public_bytes()


def test_other_keys_are_refused() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    pem = p384.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    with pytest.raises(KeystoreError, match="neither"):
        DeviceKey.from_pem(pem)
    with pytest.raises(KeystoreError, match="cannot be read"):
        DeviceKey.from_pem("not a key")


def test_b64url_has_no_padding_and_reads_both_forms() -> None:
    assert b64url(b"\xff\xfe") == "__4"
    assert b64url_decode("__4") == b"\xff\xfe"
    assert b64url_decode("__4=") == b"\xff\xfe"
    with pytest.raises(ValueError):
        b64url_decode("a")
