"""Export tokens as a password-encrypted PSKC file, for moving them between deployments.

PBKDF2 (HMAC-SHA256) derives an AES-256-CBC key; every secret is encrypted and carries
an HMAC-SHA256 over its ciphertext. :func:`twostep.adapters.importers.read_pskc` reads
the file back with the same password.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from xml.etree.ElementTree import Element

from pskc import PSKC
from pskc import xml as pskc_xml
from pskc.serialiser import PSKCSerialiser

from twostep.adapters.importers.records import TokenRecord
from twostep.domain.entities import OtpType
from twostep.domain.errors import InvalidInput

# OWASP's 2023 figure for PBKDF2-HMAC-SHA256; one derivation per file, so it is cheap.
DEFAULT_ITERATIONS = 600_000
MIN_PASSWORD_LENGTH = 8

_ALGORITHMS = {
    OtpType.HOTP: "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
    OtpType.TOTP: "urn:ietf:params:xml:ns:keyprov:pskc:totp",
}


def write_pskc(
    records: Iterable[TokenRecord], password: str, *, iterations: int = DEFAULT_ITERATIONS
) -> bytes:
    """The PSKC document for ``records``, encrypted under ``password``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the export password must be at least {MIN_PASSWORD_LENGTH} characters",
            field="password",
        )
    if iterations < 1:
        raise InvalidInput("the PBKDF2 iteration count must be positive", field="iterations")
    container = PSKC()
    container.mac.setup(algorithm="hmac-sha256")
    container.encryption.setup_pbkdf2(
        password, algorithm="aes256-cbc", iterations=iterations, prf="hmac-sha256"
    )
    for record in records:
        params = record.params
        container.add_key(
            id=record.key_id or record.serial,
            serial=record.serial,
            manufacturer=record.manufacturer,
            model=record.model,
            start_date=_datetime(record.valid_from),
            expiry_date=_datetime(record.valid_until),
            algorithm=_ALGORITHMS[params.type],
            algorithm_suite=f"HMAC-{params.algorithm.value}",
            response_length=params.digits,
            response_encoding="DECIMAL",
            secret=record.seed,
            counter=record.counter if params.type is OtpType.HOTP else None,
            time_interval=params.period if params.type is OtpType.TOTP else None,
            # A resynchronised or vendor-set clock offset goes along with the token.
            time_drift=record.drift if params.type is OtpType.TOTP and record.drift else None,
        )
    document = PSKCSerialiser.serialise_document(container)
    _prf_as_attribute(document)
    return pskc_xml.tostring(document)


def _prf_as_attribute(document: Element) -> None:
    """python-pskc 1.4 writes the PBKDF2 PRF as element text, but reads it (as the PKCS #5
    schema has it) from the ``Algorithm`` attribute: left alone, python-pskc and other
    readers would derive the key with HMAC-SHA1 and fail to decrypt."""
    for prf in document.iter():
        if isinstance(prf.tag, str) and prf.tag.endswith("PRF") and prf.text:
            prf.set("Algorithm", prf.text.strip())
            prf.text = None


def _datetime(epoch: float | None) -> datetime.datetime | None:
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
