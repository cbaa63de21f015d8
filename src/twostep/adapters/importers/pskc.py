"""PSKC (RFC 6030) token files.

``pskc_document`` reads the file one KeyPackage at a time under ``xml_limits``' limits
(DTDs refused outright) and hands over each key as a small ``KeyData``, so memory
follows the file's size. The cryptography is done in ``pskc_crypto`` so every MAC is
checked before any value is decrypted; a key without encrypted values is checked as
soon as it is read.

Supported: plain values; pre-shared-key encryption (AES-128/192/256-CBC, Triple DES CBC,
AES key wrap) with an HMAC (SHA1/224/256/384/512) on every CBC value; PBKDF2 password-based
encryption honouring the file's PRF, salt, iteration count and key length; HOTP and TOTP
keys. ``UserId`` elements are not read as a ``upn`` (vendors put directory DNs there).
"""

from __future__ import annotations

import functools

from pskc import PSKC
from pskc.key import EncryptedValue

from twostep.adapters.importers import pskc_crypto, rules
from twostep.adapters.importers.pskc_crypto import CryptoError
from twostep.adapters.importers.pskc_document import FIELDS, Document, KeyData, Sealed
from twostep.adapters.importers.records import ImportProblem, ImportRefused, TokenRecord
from twostep.domain.entities import OtpParams, OtpType

_FIELD_NAMES = {
    "secret": "secret",
    "counter": "counter",
    "time_offset": "time",
    "time_interval": "time interval",
    "time_drift": "time drift",
}
_WRONG_KEY = "wrong key or password, or the file was altered"
# A refusal lists this many problems; past them the rest of the file is not read (a
# file of millions of broken keys would otherwise cost a problem object each).
MAX_PROBLEMS = 1000
# Records share their parameters (there are at most 24 valid combinations).
_params = functools.lru_cache(maxsize=32)(OtpParams)


def read_pskc(
    data: bytes, *, key: bytes | None = None, password: str | None = None
) -> list[TokenRecord]:
    """Every key of a PSKC file, or ImportRefused listing every bad key by id and serial.

    ``key`` is the pre-shared key of an encrypted file, ``password`` the password of a
    PBKDF2 one (a key also opens a PBKDF2 file, as the derived key).
    """
    container, entries = _read(data)
    if not entries:
        raise ImportRefused.single("the file holds no keys")
    sealed = [e for e in entries if isinstance(e, KeyData)]
    opener = _Opener.for_keys(container, sealed, key=key, password=password)
    if opener is not None:
        # Every MAC first: not one value is decrypted unless all of them are authentic.
        mac_problems: list[ImportProblem] = []
        for k in sealed:
            if (problem := opener.check_macs(k)) is not None:
                _note(mac_problems, problem)
        if mac_problems:
            raise ImportRefused(mac_problems)
    del sealed
    records: list[TokenRecord] = []
    problems: list[ImportProblem] = []
    seen: dict[str, TokenRecord] = {}  # serial -> the first record with it
    for i, entry in enumerate(entries):
        outcome = _outcome(entry, opener) if isinstance(entry, KeyData) else entry
        entries[i] = outcome  # lets the key's values go as its record is made
        if isinstance(outcome, tuple):
            _note(problems, *outcome)
            continue
        first = seen.setdefault(outcome.serial, outcome)
        if first is not outcome:
            reason = f"serial {outcome.serial} appears twice (also {first.where})"
            _note(problems, ImportProblem(reason, key_id=outcome.key_id, serial=outcome.serial))
            continue
        records.append(outcome)
    if problems:
        raise ImportRefused(problems)
    return records


def _note(problems: list[ImportProblem], *new: ImportProblem) -> None:
    problems.extend(new)
    if len(problems) > MAX_PROBLEMS:
        rest = f"more than {MAX_PROBLEMS} problems: the rest of the file was not checked"
        raise ImportRefused([*problems[:MAX_PROBLEMS], ImportProblem(rest)])


_Entry = KeyData | TokenRecord | tuple[ImportProblem, ...]


def _read(data: bytes) -> tuple[PSKC, list[_Entry]]:
    """The file's encryption and MAC settings, and its keys: checked records or
    problems for plain keys, ``KeyData`` for keys with encrypted values."""
    document = Document(data)
    entries: list[_Entry] = []
    refused = 0  # problems among the entries
    for key in document.read_keys():
        entry = key if key.sealed else _outcome(key, None)
        entries.append(entry)
        if isinstance(entry, tuple):
            refused += len(entry)
            if refused > MAX_PROBLEMS:
                _note([p for e in entries if isinstance(e, tuple) for p in e])
    return document.container, entries


class _KeyRefused(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _outcome(key: KeyData, opener: _Opener | None) -> TokenRecord | tuple[ImportProblem, ...]:
    try:
        return _record(key, opener)
    except _KeyRefused as exc:
        serial = _text(key.serial)
        return tuple(ImportProblem(r, key_id=key.id, serial=serial) for r in exc.reasons)


class _Opener:
    """The key and MAC key of an encrypted file."""

    def __init__(self, container: PSKC, key: bytes, mac_key: bytes | None) -> None:
        self.container = container
        self.key = key
        self.mac_key = mac_key
        self.default_name = pskc_crypto.short_name(container.encryption.algorithm)
        self.mac_name = pskc_crypto.short_name(container.mac.algorithm)

    @classmethod
    def for_keys(
        cls, container: PSKC, keys: list[KeyData], *, key: bytes | None, password: str | None
    ) -> _Opener | None:
        """None for a file without encrypted values; ImportRefused when it cannot be opened."""
        if not keys:
            return None
        default = pskc_crypto.short_name(container.encryption.algorithm)
        try:
            names = {
                pskc_crypto.short_name(v.algorithm) or default
                for k in keys
                for f in FIELDS
                if isinstance(v := getattr(k, f), Sealed)
            }
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

    def check_macs(self, key: KeyData) -> ImportProblem | None:
        """The first value of this key whose MAC is missing or wrong, as a problem."""
        for field in FIELDS:
            value = getattr(key, field)
            if not isinstance(value, Sealed):
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

    def decrypt(self, value: Sealed) -> bytes:
        name = pskc_crypto.short_name(value.algorithm) or self.default_name or ""
        return pskc_crypto.decrypt(
            name, self.key, value.cipher_value or b"", self.container.encryption.iv
        )


def _value(key: KeyData, field: str, opener: _Opener | None) -> bytes | int | None:
    encrypted = getattr(key, field)
    if not isinstance(encrypted, Sealed):
        plain: bytes | int | None = encrypted
        return plain
    if opener is None:  # pragma: no cover - an encrypted value always makes an opener
        raise CryptoError("the value is encrypted")
    plaintext = opener.decrypt(encrypted)
    return plaintext if field == "secret" else pskc_crypto.decode_int(plaintext)


def _int_value(key: KeyData, field: str, opener: _Opener | None) -> int | None:
    value = _value(key, field, opener)
    if value is None or isinstance(value, int):
        return value
    return pskc_crypto.decode_int(value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _otp_type(uri: str | None) -> OtpType:
    tail = (uri or "").strip().lower().replace("#", ":").rsplit(":", 1)[-1]
    if tail == "hotp":
        return OtpType.HOTP
    if tail == "totp":
        return OtpType.TOTP
    shown = repr(uri[:80]) if uri else "none"
    raise ValueError(f"the key algorithm {shown} is not supported (only HOTP and TOTP)")


def _record(key: KeyData, opener: _Opener | None) -> TokenRecord:
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
    reasons.extend(key.policy_reasons)
    valid_from, valid_until = key.valid_from, key.valid_until
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        reasons.append("the key expires before it becomes valid")
    manufacturer = attempt(lambda: rules.check_text("manufacturer", _text(key.manufacturer)), None)
    model = attempt(lambda: rules.check_text("model", _text(key.model)), None)
    if reasons or otp_type is None or algorithm is None:
        raise _KeyRefused(reasons)
    return TokenRecord(
        serial=serial,
        seed=seed,
        params=_params(otp_type, algorithm, digits, period),
        counter=counter,
        manufacturer=manufacturer,
        model=model,
        valid_from=valid_from,
        valid_until=valid_until,
        key_id=key.id,
    )


def _secret(key: KeyData, opener: _Opener | None) -> bytes:
    value = _value(key, "secret", opener)
    if value is None or value == b"":
        raise ValueError("the key has no secret")
    if not isinstance(value, bytes):
        raise ValueError("the secret is malformed")
    return rules.check_seed(value)
