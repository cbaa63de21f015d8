"""PSKC (RFC 6030) token files.

``pskc_document`` reads the file one KeyPackage at a time under ``xml_limits``' limits
(DTDs refused outright) and hands over each key as a small ``KeyData``, so memory
follows the file's size. The cryptography is done in ``pskc_opener`` and ``pskc_crypto``
so every MAC is checked before any value is used; a key without encrypted values is
checked as soon as it is read.

Supported: plain values; pre-shared-key encryption (AES-128/192/256-CBC, Triple DES CBC,
AES key wrap) with an HMAC (SHA1/224/256/384/512) on every CBC value; PBKDF2 password-based
encryption honouring the file's PRF, salt, iteration count and key length; HOTP and TOTP
keys, a TOTP key's TimeDrift taken as its initial step offset. Keys of profiles Twostep
does not use (PIN, Yubico OTP) are skipped and listed; a key whose codes carry a Luhn
check digit is refused. Several OATH keys of one device with one serial (a YubiKey's two
slots) get their slot (CryptoModuleInfo Id) as a suffix: ``serial:slot``. ``UserId``
elements are not read as a ``upn`` (vendors put directory DNs there).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass

from pskc import PSKC

from twostep.adapters.importers import pskc_crypto, rules
from twostep.adapters.importers.pskc_crypto import CryptoError
from twostep.adapters.importers.pskc_document import Document, KeyData, Sealed
from twostep.adapters.importers.pskc_opener import MacOptions, Opener, problem
from twostep.adapters.importers.records import ImportProblem, ImportRefused, TokenRecord
from twostep.domain.entities import OtpParams, OtpType
from twostep.domain.token_imports import CHECKING, READING, ImportProgress, no_progress
from twostep.domain.tokens import Skipped, TokenFile

# A refusal lists this many problems; past them the rest of the file is not read (a
# file of millions of broken keys would otherwise cost a problem object each).
MAX_PROBLEMS = 1000
# Records share their parameters (there are at most 24 valid combinations).
_params = functools.lru_cache(maxsize=32)(OtpParams)
# Key profiles (the algorithm URI's last word) a token file may hold beside its OATH keys
# and that Twostep has no use for: skipped, not refused.
SKIPPED_PROFILES = {
    "pin": "a PIN key (RFC 6030 PIN profile): Twostep does not keep token PINs",
    "yubikey-aes": "a Yubico OTP key: Twostep verifies OATH codes only",
}
CHECK_DIGIT = (
    "the key's codes end with a Luhn check digit (ResponseFormat CheckDigits): "
    "not supported, such a token would never verify"
)


def read_pskc(
    data: bytes,
    *,
    key: bytes | None = None,
    password: str | None = None,
    options: MacOptions = MacOptions(),  # noqa: B008 - frozen
) -> list[TokenRecord]:
    """Every OATH key of a PSKC file, or ImportRefused listing every bad key."""
    return read_pskc_file(data, key=key, password=password, options=options).records


def read_pskc_file(
    data: bytes,
    *,
    key: bytes | None = None,
    password: str | None = None,
    options: MacOptions = MacOptions(),  # noqa: B008 - frozen
    progress: ImportProgress = no_progress,
) -> TokenFile:
    """Every OATH key of a PSKC file, the keys skipped and the warnings; ImportRefused
    listing every bad key by id and serial (or position).

    ``key`` is the pre-shared key of an encrypted file, ``password`` the password of a
    PBKDF2 one (a key also opens a PBKDF2 file, as the derived key). ``progress`` is told
    the bytes parsed as each key is read (the number of keys is known only at the end of
    the file), then each MAC checked and each key decrypted and checked.
    """
    container, entries, skipped = _read(data, progress)
    if not entries:
        if skipped:
            reason = "the file holds no HOTP or TOTP key (skipped: "
            raise ImportRefused.single(reason + "; ".join(str(s) for s in skipped[:5]) + ")")
        raise ImportRefused.single("the file holds no keys")
    sealed = [e for e in entries if isinstance(e, KeyData)]
    # Two passes (every MAC, then every key decrypted and checked) shown as one count of
    # the keys: each pass moves it by its share.
    keys, passes = len(entries), len(entries) + len(sealed)
    progress(CHECKING, 0, keys)  # the password's key derivation counts here
    opener = Opener.for_keys(container, sealed, key=key, password=password, options=options)
    checked = 0 if opener is not None else len(sealed)
    if opener is not None:
        # Every MAC first: not one value is used unless all of them are authentic.
        mac_problems: list[ImportProblem] = []
        for k in sealed:
            checked += 1
            progress(CHECKING, checked * keys // passes, keys)
            if (found := opener.check_macs(k)) is not None:
                _note(mac_problems, found)
        if mac_problems:
            raise ImportRefused(mac_problems)
    del sealed
    records: list[_Made] = []
    problems: list[ImportProblem] = []
    for i, entry in enumerate(entries):
        progress(CHECKING, (checked + i + 1) * keys // passes, keys)
        outcome = _outcome(entry, opener) if isinstance(entry, KeyData) else entry
        entries[i] = outcome  # lets the key's values go as its record is made
        if isinstance(outcome, _Made):
            records.append(outcome)
        else:
            _note(problems, *outcome)
    kept, renamed = _by_slot(records, problems)
    if problems:
        raise ImportRefused(problems)
    warnings = list(renamed)
    if opener is not None and opener.plaintext_macs:
        warnings.append(
            f"{opener.plaintext_macs} value(s) accepted on a MAC over the plaintext "
            "(a construction of drafts before RFC 6030), as asked"
        )
    if opener is not None and opener.options.no_mac and opener.mac_key is None:
        warnings.append("the file has no MAC: accepted as asked, unchecked")
    return TokenFile(kept, tuple(skipped), tuple(warnings))


def _by_slot(
    records: list[_Made], problems: list[ImportProblem]
) -> tuple[list[TokenRecord], list[str]]:
    """The records, a serial that several keys share suffixed with each key's slot when
    the slots tell them apart (one device's keys); otherwise a problem each."""
    slots: dict[str, list[str | None]] = defaultdict(list)
    for made in records:
        slots[made.record.serial].append(made.slot)
    kept: list[TokenRecord] = []
    renamed: list[str] = []
    first: dict[str, TokenRecord] = {}
    for made in records:
        record, slot = made.record, made.slot
        shared = slots[record.serial]
        if len(shared) > 1 and None not in shared and len(set(shared)) == len(shared):
            serial = f"{record.serial}:{slot}"
            renamed.append(f"{record.where}: several keys of one device: serial {serial}")
            record = _renamed(record, serial)
        elif (earlier := first.setdefault(record.serial, record)) is not record:
            reason = f"serial {record.serial} appears twice (also {earlier.where})"
            if len(shared) > 1:
                reason += ": keys of one device need distinct slots (CryptoModuleInfo Id)"
            _note(problems, ImportProblem(reason, key_id=record.key_id, serial=record.serial))
            continue
        kept.append(record)
    return kept, renamed


def _renamed(record: TokenRecord, serial: str) -> TokenRecord:
    return TokenRecord(
        serial=rules.check_serial(serial),
        seed=record.seed,
        params=record.params,
        counter=record.counter,
        manufacturer=record.manufacturer,
        model=record.model,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        key_id=record.key_id,
        drift=record.drift,
    )


def _note(problems: list[ImportProblem], *new: ImportProblem) -> None:
    problems.extend(new)
    if len(problems) > MAX_PROBLEMS:
        rest = f"more than {MAX_PROBLEMS} problems: the rest of the file was not checked"
        raise ImportRefused([*problems[:MAX_PROBLEMS], ImportProblem(rest)])


@dataclass(frozen=True, slots=True)
class _Made:
    """A key's record and its slot (the device's CryptoModuleInfo Id)."""

    record: TokenRecord
    slot: str | None


_Entry = KeyData | _Made | tuple[ImportProblem, ...]


def _read(data: bytes, progress: ImportProgress) -> tuple[PSKC, list[_Entry], list[Skipped]]:
    """The file's encryption and MAC settings, its keys (checked records or problems for
    plain keys, ``KeyData`` for keys with encrypted values) and the keys skipped."""
    document = Document(data)
    entries: list[_Entry] = []
    skipped: list[Skipped] = []
    refused = 0  # problems among the entries
    for key in document.read_keys():
        progress(READING, document.parsed, len(data))  # the keys' number is not known yet
        profile = _profile(key.algorithm)
        if profile in SKIPPED_PROFILES:
            skipped.append(Skipped(problem(key, "-").where, SKIPPED_PROFILES[profile]))
            continue
        entry = key if key.sealed else _outcome(key, None)
        entries.append(entry)
        if isinstance(entry, tuple):
            refused += len(entry)
            if refused > MAX_PROBLEMS:
                _note([p for e in entries if isinstance(e, tuple) for p in e])
    return document.container, entries, skipped


class _KeyRefused(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _outcome(key: KeyData, opener: Opener | None) -> _Made | tuple[ImportProblem, ...]:
    try:
        return _Made(_record(key, opener), key.crypto_module)
    except _KeyRefused as exc:
        return tuple(problem(key, r) for r in exc.reasons)


def _value(key: KeyData, field: str, opener: Opener | None) -> bytes | int | None:
    encrypted = getattr(key, field)
    if not isinstance(encrypted, Sealed):
        plain: bytes | int | None = encrypted
        return plain
    if opener is None:  # pragma: no cover - an encrypted value always makes an opener
        raise CryptoError("the value is encrypted")
    plaintext = opener.decrypt(encrypted)
    return plaintext if field == "secret" else pskc_crypto.decode_int(plaintext)


def _int_value(key: KeyData, field: str, opener: Opener | None) -> int | None:
    value = _value(key, field, opener)
    if value is None or isinstance(value, int):
        return value
    return pskc_crypto.decode_int(value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _profile(uri: str | None) -> str:
    return (uri or "").strip().lower().replace("#", ":").rsplit(":", 1)[-1]


def _otp_type(uri: str | None) -> OtpType:
    tail = _profile(uri)
    if tail == "hotp":
        return OtpType.HOTP
    if tail == "totp":
        return OtpType.TOTP
    shown = repr(uri[:80]) if uri else "none"
    raise ValueError(f"the key algorithm {shown} is not supported (only HOTP and TOTP)")


def _record(key: KeyData, opener: Opener | None) -> TokenRecord:
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
    if key.check_digit:
        reasons.append(CHECK_DIGIT)
    period, counter, drift = 30, 0, 0
    if otp_type is OtpType.TOTP:
        period = attempt(
            lambda: rules.check_period(_int_value(key, "time_interval", opener) or 30), 30
        )
        if attempt(lambda: _int_value(key, "time_offset", opener), None):
            reasons.append("a TOTP start time (Time) other than 0 is not supported")
        drift = attempt(lambda: rules.check_drift(_int_value(key, "time_drift", opener) or 0), 0)
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
        drift=drift,
    )


def _secret(key: KeyData, opener: Opener | None) -> bytes:
    value = _value(key, "secret", opener)
    if value is None or value == b"":
        raise ValueError("the key has no secret")
    if not isinstance(value, bytes):
        raise ValueError("the secret is malformed")
    return rules.check_seed(value)
