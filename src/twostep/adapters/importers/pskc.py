"""PSKC (RFC 6030) token files.

The XML is parsed here with defusedxml, DTDs forbidden outright, and the tree handed to
python-pskc's document parser: python-pskc's own file reader would pick lxml when it is
installed, which expands internal entities. python-pskc then supplies the structure
(keys, devices, policies, encryption and MAC settings); the cryptography is done in
``pskc_crypto`` so every MAC is checked before any value is decrypted.

Supported: plain values; pre-shared-key encryption (AES-128/192/256-CBC, Triple DES CBC,
AES key wrap) with an HMAC (SHA1/224/256/384/512) on every CBC value; PBKDF2 password-based
encryption honouring the file's PRF, salt, iteration count and key length; HOTP and TOTP
keys. ``UserId`` elements are not read as a ``upn`` (vendors put directory DNs there).
"""

from __future__ import annotations

import binascii
import datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeElementTree  # type: ignore[import-untyped, unused-ignore]
from defusedxml import DefusedXmlException  # type: ignore[import-untyped, unused-ignore]
from pskc import PSKC
from pskc.exceptions import PSKCError
from pskc.key import EncryptedValue, Key
from pskc.parser import PSKCParser

from twostep.adapters.importers import pskc_crypto, rules
from twostep.adapters.importers.pskc_crypto import CryptoError
from twostep.adapters.importers.records import ImportProblem, ImportRefused, TokenRecord
from twostep.domain.entities import OtpParams, OtpType

# The values RFC 6030 lets a file encrypt, by python-pskc's attribute name.
_FIELDS = ("secret", "counter", "time_offset", "time_interval", "time_drift")
_FIELD_NAMES = {
    "secret": "secret",
    "counter": "counter",
    "time_offset": "time",
    "time_interval": "time interval",
    "time_drift": "time drift",
}
_WRONG_KEY = "wrong key or password, or the file was altered"


def read_pskc(
    data: bytes, *, key: bytes | None = None, password: str | None = None
) -> list[TokenRecord]:
    """Every key of a PSKC file, or ImportRefused listing every bad key by id and serial.

    ``key`` is the pre-shared key of an encrypted file, ``password`` the password of a
    PBKDF2 one (a key also opens a PBKDF2 file, as the derived key).
    """
    container = _parse(data)
    keys = container.keys
    if not keys:
        raise ImportRefused.single("the file holds no keys")
    opener = _Opener.for_container(container, key=key, password=password)
    if opener is not None:
        # Every MAC first: not one value is decrypted unless all of them are authentic.
        mac_problems = [p for k in keys if (p := opener.check_macs(k)) is not None]
        if mac_problems:
            raise ImportRefused(mac_problems)
    records: list[TokenRecord] = []
    problems: list[ImportProblem] = []
    seen: dict[str, str] = {}  # serial -> where it was first seen
    for k in keys:
        try:
            record = _record(k, opener)
        except _KeyRefused as exc:
            problems.extend(
                ImportProblem(reason, key_id=k.id, serial=_text(k.serial)) for reason in exc.reasons
            )
            continue
        first = seen.setdefault(record.serial, record.where)
        if first != record.where:
            problems.append(
                ImportProblem(
                    f"serial {record.serial} appears twice (also {first})",
                    key_id=k.id,
                    serial=record.serial,
                )
            )
            continue
        records.append(record)
    if problems:
        raise ImportRefused(problems)
    return records


def _parse(data: bytes) -> PSKC:
    try:
        root = SafeElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise ImportRefused.single(
            "the file declares a DTD, entities or external references, which PSKC files do "
            "not need: refused as a possible XML attack (billion laughs, external entities)"
        ) from None
    except ParseError as exc:
        raise ImportRefused.single(f"the file is not well-formed XML: {exc}") from None
    if not isinstance(root, Element):
        raise ImportRefused.single("the file is not an XML document")
    container = PSKC()
    try:
        PSKCParser.parse_document(container, root)
    except (PSKCError, ValueError, TypeError, OverflowError, binascii.Error) as exc:
        raise ImportRefused.single(f"the file is not a valid PSKC document: {exc}") from None
    derivation = container.encryption.derivation
    if derivation.algorithm is not None and derivation.pbkdf2_prf is None:
        # python-pskc reads the PRF from the Algorithm attribute (as RFC 6030's schema has
        # it) but its own writer puts it in the element text: accept that form too.
        for prf in root.iter("PRF"):  # the parser has stripped the namespaces
            if prf.text and prf.text.strip():
                derivation.pbkdf2_prf = prf.text.strip()
    return container


class _KeyRefused(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _encrypted(key: Key, field: str) -> EncryptedValue | None:
    # python-pskc keeps a value it has not decrypted yet as ``_<field>``.
    value = getattr(key, "_" + field, None)
    return value if isinstance(value, EncryptedValue) else None


class _Opener:
    """The key and MAC key of an encrypted file."""

    def __init__(self, container: PSKC, key: bytes, mac_key: bytes | None) -> None:
        self.container = container
        self.key = key
        self.mac_key = mac_key
        self.default_name = pskc_crypto.short_name(container.encryption.algorithm)
        self.mac_name = pskc_crypto.short_name(container.mac.algorithm)

    @classmethod
    def for_container(
        cls, container: PSKC, *, key: bytes | None, password: str | None
    ) -> _Opener | None:
        """None for a file without encrypted values; ImportRefused when it cannot be opened."""
        values = [v for k in container.keys for f in _FIELDS if (v := _encrypted(k, f))]
        if not values:
            return None
        default = pskc_crypto.short_name(container.encryption.algorithm)
        try:
            names = {pskc_crypto.short_name(v.algorithm) or default for v in values}
            if None in names:
                raise CryptoError("an encrypted value does not say how it is encrypted")
            lengths = {
                name: pskc_crypto.key_lengths(name) for name in sorted(n for n in names if n)
            }
            encryption_key = cls._encryption_key(container, key, password, lengths)
            mac_key = None
            if any(pskc_crypto.needs_mac(n) for n in lengths) or container.mac.algorithm:
                pskc_crypto.check_mac_name(pskc_crypto.short_name(container.mac.algorithm))
                mac_key = cls._mac_key(container, encryption_key, default)
        except CryptoError as exc:
            raise ImportRefused.single(str(exc)) from None
        return cls(container, encryption_key, mac_key)

    @staticmethod
    def _encryption_key(
        container: PSKC,
        key: bytes | None,
        password: str | None,
        lengths: dict[str, tuple[int, ...]],
    ) -> bytes:
        derivation = container.encryption.derivation
        derived = derivation.algorithm is not None
        if key is None and password is None:
            how = "a password" if derived else "a pre-shared key"
            name = container.encryption.key_name
            named = f" ({name[:60]!r})" if name else ""
            raise CryptoError(f"the file is encrypted with {how}{named}: give it to import")
        if key is None:
            assert password is not None
            if not derived:
                raise CryptoError("the file is encrypted with a pre-shared key, not a password")
            if pskc_crypto.short_name(derivation.algorithm) != "pbkdf2":
                raise CryptoError("the key derivation is not supported (only PBKDF2)")
            first = next(iter(lengths.values()))
            length = derivation.pbkdf2_key_length or first[-1]
            key = pskc_crypto.derive_pbkdf2(
                password,
                derivation.pbkdf2_salt,
                derivation.pbkdf2_iterations,
                length,
                pskc_crypto.short_name(derivation.pbkdf2_prf),
            )
        for name, allowed in lengths.items():
            if len(key) not in allowed:
                wanted = " or ".join(str(n) for n in allowed)
                raise CryptoError(
                    f"the key is {len(key)} bytes long; {name} needs {wanted}: wrong key"
                )
        return key

    @staticmethod
    def _mac_key(container: PSKC, encryption_key: bytes, default: str | None) -> bytes:
        stored = getattr(container.mac, "_key", None)
        if isinstance(stored, EncryptedValue):
            name = pskc_crypto.short_name(stored.algorithm) or default
            if name is None or not stored.cipher_value:
                raise CryptoError("the MAC key is malformed")
            try:
                return pskc_crypto.decrypt(
                    name, encryption_key, stored.cipher_value, container.encryption.iv
                )
            except CryptoError:
                raise CryptoError(f"cannot decrypt the MAC key: {_WRONG_KEY}") from None
        if isinstance(stored, bytes) and stored:
            return stored
        return encryption_key  # drafts before RFC 6030 used the encryption key

    def check_macs(self, key: Key) -> ImportProblem | None:
        """The first value of this key whose MAC is missing or wrong, as a problem."""
        for field in _FIELDS:
            value = _encrypted(key, field)
            if value is None:
                continue
            name = pskc_crypto.short_name(value.algorithm) or self.default_name or ""
            label = _FIELD_NAMES[field]
            reason = None
            if value.mac_value is None:
                if pskc_crypto.needs_mac(name):
                    reason = f"the encrypted {label} has no MAC"
            elif self.mac_key is None or self.mac_name is None:
                reason = f"the {label} has a MAC but the file names no MAC algorithm"
            elif not pskc_crypto.mac_matches(
                self.mac_name, self.mac_key, value.cipher_value or b"", value.mac_value
            ):
                reason = f"the MAC of the {label} does not match: {_WRONG_KEY}"
            if reason is not None:
                return ImportProblem(reason, key_id=key.id, serial=_text(key.serial))
        return None

    def decrypt(self, value: EncryptedValue) -> bytes:
        name = pskc_crypto.short_name(value.algorithm) or self.default_name or ""
        return pskc_crypto.decrypt(
            name, self.key, value.cipher_value or b"", self.container.encryption.iv
        )


def _value(key: Key, field: str, opener: _Opener | None) -> bytes | int | None:
    encrypted = _encrypted(key, field)
    if encrypted is None:
        plain: bytes | int | None = getattr(key, "_" + field, None)
        return plain
    if opener is None:  # pragma: no cover - an encrypted value always makes an opener
        raise CryptoError("the value is encrypted")
    plaintext = opener.decrypt(encrypted)
    return plaintext if field == "secret" else pskc_crypto.decode_int(plaintext)


def _int_value(key: Key, field: str, opener: _Opener | None) -> int | None:
    value = _value(key, field, opener)
    if value is None or isinstance(value, int):
        return value
    return pskc_crypto.decode_int(value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _epoch(value: object) -> float | None:
    if not isinstance(value, datetime.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.timestamp()


def _otp_type(uri: str | None) -> OtpType:
    tail = (uri or "").strip().lower().replace("#", ":").rsplit(":", 1)[-1]
    if tail == "hotp":
        return OtpType.HOTP
    if tail == "totp":
        return OtpType.TOTP
    shown = repr(uri[:80]) if uri else "none"
    raise ValueError(f"the key algorithm {shown} is not supported (only HOTP and TOTP)")


def _record(key: Key, opener: _Opener | None) -> TokenRecord:
    attempt = rules.Checker()  # CryptoError is a ValueError, so it is caught too
    reasons = attempt.reasons

    serial = attempt(lambda: rules.check_serial(_text(key.serial) or key.id), "")
    otp_type = attempt(lambda: _otp_type(key.algorithm), None)
    seed = attempt(lambda: _secret(key, opener), b"")
    algorithm = attempt(lambda: rules.parse_algorithm(key.algorithm_suite), None)
    digits = attempt(lambda: rules.check_digits(key.response_length or 6), 6)
    encoding = (key.response_encoding or "DECIMAL").upper()
    if encoding != "DECIMAL":
        reasons.append("the response encoding must be DECIMAL")
    period, counter = 30, 0
    if otp_type is OtpType.TOTP:
        period = attempt(
            lambda: rules.check_period(_int_value(key, "time_interval", opener) or 30), 30
        )
        if attempt(lambda: _int_value(key, "time_offset", opener), None):
            reasons.append("a TOTP start time (Time) other than 0 is not supported")
    elif otp_type is OtpType.HOTP:
        counter = attempt(lambda: rules.check_counter(_int_value(key, "counter", opener) or 0), 0)
    policy = key.policy
    if policy.unknown_policy_elements:
        reasons.append("the key policy has elements this importer does not understand")
    if policy.key_usage and "OTP" not in policy.key_usage:
        reasons.append("the key policy does not allow OTP use")
    valid_from = _epoch(policy.start_date or key.start_date)
    valid_until = _epoch(policy.expiry_date or key.expiry_date)
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        reasons.append("the key expires before it becomes valid")
    manufacturer = attempt(lambda: rules.check_text("manufacturer", _text(key.manufacturer)), None)
    model = attempt(lambda: rules.check_text("model", _text(key.model)), None)
    if reasons or otp_type is None or algorithm is None:
        raise _KeyRefused(reasons)
    return TokenRecord(
        serial=serial,
        seed=seed,
        params=OtpParams(type=otp_type, algorithm=algorithm, digits=digits, period=period),
        counter=counter,
        manufacturer=manufacturer,
        model=model,
        valid_from=valid_from,
        valid_until=valid_until,
        key_id=key.id,
    )


def _secret(key: Key, opener: _Opener | None) -> bytes:
    value = _value(key, "secret", opener)
    if value is None or value == b"":
        raise ValueError("the key has no secret")
    if not isinstance(value, bytes):
        raise ValueError("the secret is malformed")
    return rules.check_seed(value)
