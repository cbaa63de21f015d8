"""The YubiKey Personalization Tool's log, in either of the layouts it writes.

* Traditional: ``event type, timestamp, slot, public identity, private identity, secret
  key, current access code, new access code, OATH fixed modhex (3 flags), HOTP digits,
  moving factor seed, ...`` (18 columns), after a ``LOGGING START`` line. The log names no
  YubiKey serial number: an OATH-HOTP row's public identity (its OATH token identifier) is
  the serial, so a row without one is refused.
* Yubico: ``serial number, public identity, private identity or moving factor seed,
  secret key, access code, timestamp``. It records neither the slot nor the number of
  digits: 6, the tool's default, is assumed and the import warns.

OATH-HOTP rows are imported (hex secret, the moving factor seed as the first counter);
rows of other modes (Yubico OTP, static password, challenge-response, configuration
update or swap) are skipped and listed. One YubiKey's two slots written with one public
identity get the slot as a suffix (``serial:2``); one slot written twice is refused, as
only the last write is on the key.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict

from twostep.adapters.importers import layouts, rules
from twostep.adapters.importers.records import ImportProblem, ImportRefused, TokenRecord
from twostep.domain.entities import OtpParams, OtpType
from twostep.domain.tokens import Skipped, TokenFile

MANUFACTURER = "Yubico"
_OATH = "oath-hotp"
_MIN_TRADITIONAL = 13  # through the moving factor seed
_MIN_YUBICO = 4  # through the secret key
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIGITS_UNKNOWN = (
    "the Yubico log format does not record how many digits a key gives: 6 (the tool's "
    "default) assumed for {count} key(s): {serials}; a key written for 8 digits would "
    "never verify: import its traditional log instead"
)
_NAMED = 20  # serials a warning names; past them, a count
_LOOKS_LIKE_HMAC = (
    "{count} row(s) with no token identifier and a moving factor of 0, which is how an "
    "HMAC challenge-response slot is logged too: imported as OATH-HOTP: {serials}"
)


def read_yubico(data: bytes | str) -> TokenFile:
    """Every OATH-HOTP key of the log, the rows skipped and the warnings; ImportRefused
    listing every bad row."""
    tally = layouts.Tally("a YubiKey Personalization Tool log")
    made: list[tuple[int, TokenRecord, str | None]] = []  # line, record, slot
    skipped: list[Skipped] = []
    warnings: list[str] = []
    unknown_digits: list[str] = []  # serials read with 6 digits assumed
    bare: list[str] = []  # serials that could be challenge-response slots
    for line, cells in layouts.rows(io.StringIO(layouts.decode(data), newline="")):
        event = cells[0].lower()
        if event.startswith("logging start"):
            continue
        found: list[ImportProblem] = []
        if event.isdigit():
            outcome = _yubico_row(cells, line, found, bare)
            if isinstance(outcome, TokenRecord):
                unknown_digits.append(outcome.serial)
            slot = None
        elif event == _OATH:
            outcome = _traditional_row(cells, line, found)
            slot = cells[2] if outcome is not None else None
        elif event.startswith(layouts.YUBICO_EVENTS):
            skipped.append(Skipped(f"line {line}", f"a {cells[0][:40]} slot: OATH only"))
            outcome = None
        else:
            found.append(ImportProblem(f"unknown event type {cells[0][:40]!r}", line=line))
            outcome = None
        if isinstance(outcome, Skipped):
            skipped.append(outcome)
        elif outcome is not None:
            made.append((line, outcome, slot))
        tally.row(found)
    records = _by_slot(made, tally, warnings)
    if tally.problems:
        raise ImportRefused(tally.problems, valid=records)
    if not records:
        raise ImportRefused.single("the file holds no OATH-HOTP key")
    if bare:
        warnings.append(_LOOKS_LIKE_HMAC.format(count=len(bare), serials=_named(bare)))
    if unknown_digits:
        named = _named(unknown_digits)
        warnings.append(_DIGITS_UNKNOWN.format(count=len(unknown_digits), serials=named))
    return TokenFile(records, tuple(skipped), tuple(warnings))


def _named(serials: list[str]) -> str:
    shown = ", ".join(serials[:_NAMED])
    return shown + (f" and {len(serials) - _NAMED} more" if len(serials) > _NAMED else "")


def _traditional_row(cells: list[str], line: int, found: list[ImportProblem]) -> TokenRecord | None:
    if len(cells) < _MIN_TRADITIONAL:
        found.append(
            ImportProblem(f"an OATH-HOTP row has {_MIN_TRADITIONAL} columns or more", line=line)
        )
        return None
    if not cells[3]:
        reason = (
            "the OATH-HOTP row has no public identity (OATH token identifier), and the "
            "traditional log names no serial number: log in the Yubico format, which does"
        )
        found.append(ImportProblem(reason, line=line))
        return None
    return _record(cells[3], cells[5], cells[11], cells[12], line, found)


def _yubico_row(
    cells: list[str], line: int, found: list[ImportProblem], bare: list[str]
) -> TokenRecord | Skipped | None:
    if len(cells) < _MIN_YUBICO:
        found.append(ImportProblem(f"a row has {_MIN_YUBICO} columns or more", line=line))
        return None
    public, third, secret = cells[1], cells[2], cells[3]
    if len(secret) == 32:  # a 16-byte AES key: a Yubico OTP or static password slot
        mode = "Yubico OTP" if third else "static password"
        return Skipped(f"line {line}", f"a {mode} slot: OATH only")
    if not third.isdigit():
        found.append(ImportProblem("the moving factor seed is not a whole number", line=line))
        return None
    if not public and third == "0":
        bare.append(f"{cells[0][:64]} (line {line})")
    return _record(cells[0], cells[3], "6", third, line, found)


def _record(
    serial: str, secret: str, digits: str, counter: str, line: int, found: list[ImportProblem]
) -> TokenRecord | None:
    check = rules.Checker()
    serial = check(lambda: rules.check_serial(serial), "")
    seed = check(lambda: rules.check_seed(_hex(secret)), b"")
    length = check(lambda: rules.check_digits(rules.parse_int("digits", digits or "6")), 6)
    first = check(lambda: rules.check_counter(rules.parse_int("counter", counter or "0")), 0)
    if check.reasons:
        found.extend(ImportProblem(r, line=line) for r in check.reasons)
        return None
    return TokenRecord(
        serial=serial,
        seed=seed,
        params=OtpParams(type=OtpType.HOTP, digits=length),
        counter=first,
        manufacturer=MANUFACTURER,
        line=line,
    )


def _hex(text: str) -> bytes:
    if not text:
        raise ValueError("the secret key is missing")
    if len(text) % 2 or not _HEX.fullmatch(text):
        raise ValueError("the secret key is not hex")
    return bytes.fromhex(text)


def _by_slot(
    made: list[tuple[int, TokenRecord, str | None]], tally: layouts.Tally, warnings: list[str]
) -> list[TokenRecord]:
    """Serials several rows share: suffixed with the slot when the slots differ (one
    YubiKey's two slots), refused otherwise (one slot written twice, or a log without
    slots)."""
    slots: dict[str, list[str | None]] = defaultdict(list)
    for _line, record, slot in made:
        slots[record.serial].append(slot)
    records: list[TokenRecord] = []
    first: dict[tuple[str, str | None], int] = {}
    for line, record, slot in made:
        shared = slots[record.serial]
        earlier = first.setdefault((record.serial, slot), line)
        if earlier != line:
            why = (
                "the same slot written twice: keep the last line"
                if slot
                else (
                    "the Yubico log format records no slot, so two slots cannot be told from "
                    "one written twice: keep the line of the slot in use"
                )
            )
            reason = f"serial {record.serial} is already on line {earlier}: {why}"
            tally.problems.append(ImportProblem(reason, line=line))
            continue
        if len(shared) > 1 and slot is not None and None not in shared:
            serial = f"{record.serial}:{slot}"
            warnings.append(f"line {line}: slot {slot} of a YubiKey with two: serial {serial}")
            records.append(_with_serial(record, serial))
        else:
            records.append(record)
    return records


def _with_serial(record: TokenRecord, serial: str) -> TokenRecord:
    return TokenRecord(
        serial=rules.check_serial(serial),
        seed=record.seed,
        params=record.params,
        counter=record.counter,
        manufacturer=record.manufacturer,
        line=record.line,
    )
