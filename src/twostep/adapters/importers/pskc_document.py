"""Reading a PSKC document one KeyPackage at a time, each key kept as a small value.

``xml_limits`` reads the XML in chunks under its limits and hands over one child of the
KeyContainer at a time; python-pskc's parser reads each one (keys, devices, policies;
the container's encryption and MAC settings), and each key is copied into a
``KeyData``: python-pskc's Key, Device and Policy objects cost a few KiB a key, a
``KeyData`` a few hundred bytes. Neither a whole ElementTree (about 30 times the file's
size) nor python-pskc's own file reader (it would pick lxml when installed, which
expands internal entities) is used.
"""

from __future__ import annotations

import binascii
import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from pskc import PSKC
from pskc.device import Device
from pskc.exceptions import PSKCError
from pskc.key import EncryptedValue, Key
from pskc.parser import PSKCParser

from twostep.adapters.importers import xml_limits
from twostep.adapters.importers.records import ImportRefused

# The values RFC 6030 lets a file encrypt, by python-pskc's attribute name.
FIELDS = ("secret", "counter", "time_offset", "time_interval", "time_drift")
_KEY_PACKAGES = ("KeyPackage", "Device")  # "Device": drafts before RFC 6030
_ENCRYPTION = ("EncryptionKey", "EncryptionMethod")
_MAC = ("MACMethod", "DigestMethod")
_PSKC_ERRORS = (PSKCError, ValueError, TypeError, OverflowError, binascii.Error)


@dataclass(frozen=True, slots=True)
class Sealed:
    """An encrypted value: python-pskc's EncryptedValue without its per-object dict."""

    cipher_value: bytes | None
    mac_value: bytes | None
    algorithm: str | None


Value = bytes | int | Sealed | None


@dataclass(frozen=True, slots=True)
class KeyData:
    """What the import needs of one key of the file."""

    id: str | None
    position: int  # the key's place in the file: 1 for the first
    serial: str | None
    crypto_module: str | None  # the slot of a device with several keys (a YubiKey's 1 or 2)
    algorithm: str | None
    algorithm_suite: str | None
    response_length: int | None
    response_encoding: str | None
    check_digit: bool  # ResponseFormat CheckDigits: a Luhn digit follows the code
    policy_reasons: tuple[str, ...]  # what the key's policy refuses
    valid_from: float | None  # epoch seconds
    valid_until: float | None
    manufacturer: str | None
    model: str | None
    secret: Value
    counter: Value
    time_offset: Value
    time_interval: Value
    time_drift: Value

    @property
    def sealed(self) -> bool:
        """Whether any value is encrypted (and so waits for every MAC to be checked)."""
        return any(isinstance(getattr(self, field), Sealed) for field in FIELDS)


class Document:
    """A PSKC file as it is read: ``read_keys()`` yields its keys in document order, and
    once it is exhausted ``container`` holds the file's encryption and MAC settings. A
    problem of the document itself (not well-formed, over a limit, not PSKC) is raised
    as ImportRefused. ``parsed`` is how many of its bytes have been parsed so far."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.container = PSKC()
        self.parsed = 0
        self._share = _Shared()
        self._position = 0

    def read_keys(self) -> Iterator[KeyData]:
        header = _Header(self.container)
        try:
            elements = xml_limits.children(self.data, _KEY_PACKAGES, fed=self._parsed)
            _root(self.container, next(elements))
            for element in elements:
                if element.tag in _KEY_PACKAGES:
                    header.keys_read = True
                    yield from self._key_package(element)
                else:
                    header.read(element)
        except xml_limits.DtdForbidden:
            raise ImportRefused.single(
                "the file declares a DTD, entities or external references, which PSKC files "
                "do not need: refused as a possible XML attack (billion laughs, external "
                "entities)"
            ) from None
        except xml_limits.LimitExceeded as exc:
            raise ImportRefused.single(
                f"over a limit of the token import: {exc}. No PSKC file comes near it: "
                "refused as a possible denial-of-service attack"
            ) from None
        except xml_limits.NotWellFormed as exc:
            raise ImportRefused.single(f"the file is not well-formed XML: {exc}") from None
        header.finish()

    def _parsed(self, count: int) -> None:
        self.parsed = count

    def _key_package(self, element: Element) -> list[KeyData]:
        if not any(child.tag in ("Key", "Secret") for child in element):
            return []  # a device without keys: nothing to import, nothing to parse
        device = Device(self.container)  # not added to the container: only copies are kept
        _pskc(PSKCParser.parse_key_package, device, element)
        found = []
        for key in device.keys:
            self._position += 1
            found.append(_key_data(key, self._position, self._share))
        return found


def _pskc(parse: Callable[[Any, Element], None], target: object, element: Element) -> None:
    """One of python-pskc's parser steps, its failures as a refusal of the file."""
    try:
        parse(target, element)
    except _PSKC_ERRORS as exc:
        raise ImportRefused.single(f"the file is not a valid PSKC document: {exc}") from None


def _root(container: PSKC, root: Element) -> None:
    # python-pskc's parse_document without the document: the root's checks.
    if root.tag not in ("KeyContainer", "SecretContainer"):
        raise ImportRefused.single("the file is not a valid PSKC document: Missing KeyContainer")
    version = container.version = root.get("Version") or root.get("version")
    if root.tag == "KeyContainer" and version and version not in ("1", "1.0"):
        raise ImportRefused.single(
            f"the file is not a valid PSKC document: Unsupported version {version[:20]!r}"
        )
    container.id = root.get("Id") or root.get("ID") or root.get("id")


class _Header:
    """The KeyContainer's other children, read as python-pskc reads them: the first
    EncryptionKey and MACMethod, and a MACAlgorithm overriding the latter. Signature and
    Extensions are not used by the import."""

    def __init__(self, container: PSKC) -> None:
        self.container = container
        self.keys_read = False
        self.seen: set[str] = set()
        self.mac_algorithm: str | None = None

    def read(self, element: Element) -> None:
        tag = element.tag
        if tag in _ENCRYPTION:
            if self.keys_read:
                # Keys are read as they come, and python-pskc reads an encrypted value
                # according to the file's encryption settings.
                raise ImportRefused.single(
                    f"the file is not a valid PSKC document: its {tag} comes after a "
                    "KeyPackage (RFC 6030 puts it first)"
                )
            if "encryption" not in self.seen:
                self.seen.add("encryption")
                self._encryption(element)
        elif tag in _MAC and "mac" not in self.seen:
            self.seen.add("mac")
            _pskc(PSKCParser.parse_mac_method, self.container.mac, element)
        elif tag == "MACAlgorithm" and self.mac_algorithm is None:
            self.mac_algorithm = (element.text or "").strip()

    def _encryption(self, element: Element) -> None:
        _pskc(PSKCParser.parse_encryption, self.container.encryption, element)
        derivation = self.container.encryption.derivation
        if derivation.algorithm is not None and derivation.pbkdf2_prf is None:
            # python-pskc reads the PRF from the Algorithm attribute (as RFC 6030's schema
            # has it) but its own writer puts it in the element text: accept that too.
            for prf in element.iter("PRF"):
                if prf.text and prf.text.strip():
                    derivation.pbkdf2_prf = prf.text.strip()

    def finish(self) -> None:
        if self.mac_algorithm:
            self.container.mac.algorithm = self.mac_algorithm


class _Shared:
    """One copy of each text most keys repeat (algorithm, manufacturer): a third of
    what a key would cost otherwise."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        kept = self.seen.get(text)
        if kept is None:
            kept = text
            if len(self.seen) < 64:  # a vendor's file repeats a handful
                self.seen[text] = text
        return kept


def _key_data(key: Key, position: int, share: _Shared) -> KeyData:
    policy = key.policy
    reasons = []
    if policy.unknown_policy_elements:
        reasons.append("the key policy has elements this importer does not understand")
    if policy.key_usage and "OTP" not in policy.key_usage:
        reasons.append("the key policy does not allow OTP use")
    return KeyData(
        key.id,
        position,
        key.serial,
        share(key.crypto_module),
        share(key.algorithm),
        share(key.algorithm_suite),
        key.response_length,
        share(key.response_encoding),
        bool(key.response_check),
        tuple(reasons),
        _epoch(policy.start_date or key.start_date),
        _epoch(policy.expiry_date or key.expiry_date),
        share(key.manufacturer),
        share(key.model),
        *(_value(getattr(key, "_" + field, None)) for field in FIELDS),
    )


def _value(value: object) -> Value:
    # python-pskc keeps a value it has not decrypted yet as ``_<field>``.
    if isinstance(value, EncryptedValue):
        return Sealed(value.cipher_value, value.mac_value, value.algorithm)
    return value if isinstance(value, bytes | int) else None


def _epoch(value: object) -> float | None:
    if not isinstance(value, datetime.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.timestamp()
