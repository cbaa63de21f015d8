"""The "oathcsv" layout (privacyIDEA's and LinOTP's OATH CSV): ``serial, seed, type,
digits, time step`` for TOTP and ``serial, seed, type, digits, counter`` for HOTP, no
header, the seed in hex.

``type`` is ``hotp`` or ``totp`` (``ocra`` is refused); ``digits`` 6 or 8 (6 when empty);
the fifth column is a TOTP token's time step, 30 or 60 (30 when empty), or an HOTP
token's counter (0 when empty), as privacyIDEA reads it. A row with only a serial and a
seed leaves the type to guess: refused, since a guess that is wrong never verifies.
"""

from __future__ import annotations

import io

from twostep.adapters.importers import layouts, rules
from twostep.adapters.importers.records import ImportProblem, ImportRefused, TokenRecord
from twostep.domain.entities import OtpParams, OtpType
from twostep.domain.tokens import TokenFile

_MAX_COLUMNS = 5


def read_oath_csv(data: bytes | str) -> TokenFile:
    """Every token of the file, or ImportRefused listing every bad row."""
    tally = layouts.Tally("oathcsv")
    records: list[TokenRecord] = []
    seen: dict[str, int] = {}
    for line, cells in layouts.rows(io.StringIO(layouts.decode(data), newline="")):
        found: list[ImportProblem] = []
        record = _record(cells, line, found)
        if record is not None:
            earlier = seen.setdefault(record.serial, line)
            if earlier != line:
                reason = f"serial {record.serial} is already on line {earlier}"
                found.append(ImportProblem(reason, line=line))
            else:
                records.append(record)
        tally.row(found)
    if tally.problems:
        raise ImportRefused(tally.problems, valid=records)
    if not records:
        raise ImportRefused.single("the file holds no tokens")
    return TokenFile(records)


def _record(cells: list[str], line: int, found: list[ImportProblem]) -> TokenRecord | None:
    if not 3 <= len(cells) <= _MAX_COLUMNS:
        reason = (
            f"the row has {len(cells)} columns: oathcsv rows are serial, hex seed, "
            "hotp or totp, and optionally digits and time step (TOTP) or counter (HOTP)"
        )
        found.append(ImportProblem(reason, line=line))
        return None
    cells = cells + [""] * (_MAX_COLUMNS - len(cells))
    check = rules.Checker()
    serial = check(lambda: rules.check_serial(cells[0]), "")
    seed = check(lambda: rules.check_seed(_hex(cells[1])), b"")
    if not cells[2]:
        check.reasons.append("the type (hotp or totp) is missing")
        otp_type = OtpType.HOTP
    elif cells[2].lower() == "ocra":
        check.reasons.append("OCRA tokens are not supported (only HOTP and TOTP)")
        otp_type = OtpType.HOTP
    else:
        otp_type = check(lambda: rules.parse_type(cells[2]), OtpType.TOTP)
    digits = check(lambda: rules.check_digits(rules.parse_int("digits", cells[3] or "6")), 6)
    period, counter = 30, 0
    if otp_type is OtpType.TOTP:
        step = cells[4] or "30"
        period = check(lambda: rules.check_period(rules.parse_int("time step", step)), 30)
    else:
        first = cells[4] or "0"
        counter = check(lambda: rules.check_counter(rules.parse_int("counter", first)), 0)
    if check.reasons:
        found.extend(ImportProblem(r, line=line) for r in check.reasons)
        return None
    params = OtpParams(type=otp_type, digits=digits, period=period)
    return TokenRecord(serial=serial, seed=seed, params=params, counter=counter, line=line)


def _hex(text: str) -> bytes:
    cleaned = text.replace(" ", "")
    if not cleaned:
        raise ValueError("the seed is missing")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise ValueError("the seed is not hex (oathcsv seeds are hex)") from None
