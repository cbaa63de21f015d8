"""Tokens whose vendor set an end of validity (PSKC ExpiryDate) that is past or near, as
an import sees them: named in its summary, or refused when the operator asks."""

from __future__ import annotations

import datetime

from twostep.domain.tokens import ImportProblem, TokenRecord

EXPIRY_NOTICE = 30 * 86_400  # a token ending within this is named at import
NAMED_EXPIRIES = 20  # tokens named in the expiry warnings; past them, a count


class Expiry:
    """Tokens whose vendor set an end of validity that is past or near: named in the
    summary's warnings, or refused when the operator asked."""

    def __init__(self, now: float, refuse: bool) -> None:
        self.now = now
        self.refuse = refuse
        self.expired: list[str] = []
        self.expiring: list[str] = []

    def check(self, record: TokenRecord) -> ImportProblem | None:
        until = record.valid_until
        if until is None or until > self.now + EXPIRY_NOTICE:
            return None
        when = _date(until)
        if until <= self.now:
            self.expired.append(f"{record.serial} (expired {when})")
            why = f"the token expired on {when}"
        else:
            self.expiring.append(f"{record.serial} (until {when})")
            why = f"the token expires on {when}, within 30 days"
        if not self.refuse:
            return None
        return ImportProblem(
            f"{why}: refused as asked (refuse expiring)",
            line=record.line,
            key_id=record.key_id,
            serial=record.serial,
        )

    def warnings(self) -> tuple[str, ...]:
        found = []
        for names, what in (
            (self.expired, "already expired"),
            (self.expiring, "expiring within 30 days"),
        ):
            if names:
                shown = ", ".join(names[:NAMED_EXPIRIES])
                more = (
                    f" and {len(names) - NAMED_EXPIRIES} more"
                    if len(names) > NAMED_EXPIRIES
                    else ""
                )
                found.append(f"{len(names)} token(s) {what}: {shown}{more}")
        return tuple(found)


def _date(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
