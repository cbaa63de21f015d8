"""Opening an encrypted PSKC file: its encryption key and MAC key, every MAC checked.

RFC 6030 computes each value's MAC over its ciphertext (IV included), so every MAC is
checked before any value is decrypted. Two older constructions are refused by default,
each with its own reason, and accepted only when the operator asks:

* ``plaintext_mac``: drafts before RFC 6030 (ActivIdentity's and draft-hoyer's files)
  computed the MAC over the plaintext, with the encryption key as MAC key. Such a value
  can only be checked after it is decrypted; it is accepted if that MAC verifies, and
  nothing of the file is used before every MAC has.
* ``no_mac``: a file with CBC-encrypted values and no MAC at all cannot tell a wrong key
  or an altered file from a good one.
"""

from __future__ import annotations

from dataclasses import dataclass

from pskc import PSKC
from pskc.key import EncryptedValue

from twostep.adapters.importers import pskc_crypto
from twostep.adapters.importers.pskc_crypto import CryptoError
from twostep.adapters.importers.pskc_document import FIELDS, KeyData, Sealed
from twostep.adapters.importers.records import ImportProblem, ImportRefused

FIELD_NAMES = {
    "secret": "secret",
    "counter": "counter",
    "time_offset": "time",
    "time_interval": "time interval",
    "time_drift": "time drift",
}
WRONG_KEY = "wrong key or password, or the file was altered"
PLAINTEXT_MAC_HINT = (
    "or the file computes its MACs over the plaintext, as files written before RFC 6030 "
    "did: the plaintext-MAC option (CLI --plaintext-mac) checks that"
)
NO_MAC = (
    "the file has no MAC: its CBC-encrypted values cannot be told from a wrong key or an "
    "altered file (refused; the no-MAC option, CLI --no-mac, accepts such a file)"
)


@dataclass(frozen=True, slots=True)
class MacOptions:
    """The older constructions the operator accepts for this file."""

    plaintext_mac: bool = False
    no_mac: bool = False


def problem(key: KeyData, reason: str) -> ImportProblem:
    """A problem of this key, placed by its Id, its serial, else its position."""
    serial = key.serial if isinstance(key.serial, str) and key.serial else None
    return ImportProblem(reason, key_id=key.id, serial=serial, position=key.position)


class Opener:
    """The key and MAC key of an encrypted file."""

    def __init__(
        self, container: PSKC, key: bytes, mac_key: bytes | None, options: MacOptions
    ) -> None:
        self.container = container
        self.key = key
        self.mac_key = mac_key
        self.options = options
        self.default_name = pskc_crypto.short_name(container.encryption.algorithm)
        self.mac_name = pskc_crypto.short_name(container.mac.algorithm)
        # Whether the file carries a MACKey: RFC 6030 files do; earlier drafts did not.
        self.has_mac_key = getattr(container.mac, "_key", None) is not None
        self.plaintext_macs = 0  # values accepted on their MAC over the plaintext

    @classmethod
    def for_keys(
        cls,
        container: PSKC,
        keys: list[KeyData],
        *,
        key: bytes | None,
        password: str | None,
        options: MacOptions,
    ) -> Opener | None:
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
            mac_name = pskc_crypto.short_name(container.mac.algorithm)
            if mac_name is None and any(pskc_crypto.needs_mac(n) for n in lengths):
                if not options.no_mac:
                    raise CryptoError(NO_MAC)
            elif mac_name is not None:
                pskc_crypto.check_mac_name(mac_name)
                mac_key = cls._mac_key(container, encryption_key, default)
        except CryptoError as exc:
            raise ImportRefused.single(str(exc)) from None
        return cls(container, encryption_key, mac_key, options)

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
                raise CryptoError(f"cannot decrypt the MAC key: {WRONG_KEY}") from None
        if isinstance(stored, bytes) and stored:
            return stored
        return encryption_key  # drafts before RFC 6030 used the encryption key

    def check_macs(self, key: KeyData) -> ImportProblem | None:
        """The first value of this key whose MAC is missing or wrong, as a problem."""
        for field in FIELDS:
            value = getattr(key, field)
            if not isinstance(value, Sealed):
                continue
            reason = self._mac_problem(value, FIELD_NAMES[field])
            if reason is not None:
                return problem(key, reason)
        return None

    def _mac_problem(self, value: Sealed, label: str) -> str | None:
        name = pskc_crypto.short_name(value.algorithm) or self.default_name or ""
        if value.mac_value is None:
            if pskc_crypto.needs_mac(name) and not self.options.no_mac:
                return f"the encrypted {label} has no MAC"
            return None
        if self.mac_key is None or self.mac_name is None:
            return f"the {label} has a MAC but the file names no MAC algorithm"
        cipher_value = value.cipher_value or b""
        if pskc_crypto.mac_matches(self.mac_name, self.mac_key, cipher_value, value.mac_value):
            return None
        if not self.options.plaintext_mac:
            return f"the MAC of the {label} does not match: {WRONG_KEY}, {PLAINTEXT_MAC_HINT}"
        # Asked for: the MAC over the plaintext, which only a decryption can give. The
        # plaintext is compared and dropped; nothing is used before every MAC verified.
        try:
            plaintext = self.decrypt(value)
        except CryptoError:
            return f"the {label} cannot be decrypted: {WRONG_KEY}"
        if pskc_crypto.mac_matches(self.mac_name, self.mac_key, plaintext, value.mac_value):
            self.plaintext_macs += 1
            return None
        return (
            f"the MAC of the {label} matches neither the encrypted value nor the "
            f"plaintext: {WRONG_KEY}"
        )

    def decrypt(self, value: Sealed) -> bytes:
        name = pskc_crypto.short_name(value.algorithm) or self.default_name or ""
        return pskc_crypto.decrypt(
            name, self.key, value.cipher_value or b"", self.container.encryption.iv
        )
