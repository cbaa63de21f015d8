"""Where an incremental scan starts: a directory kind's change mark, kept as an opaque cursor.

Active Directory: ``uSNChanged``, a counter local to one domain controller. The cursor names
the controller (rootDSE's ``dsServiceName``, else the URL), so after a failover to another
one the next scan is a full one. It is rootDSE's ``highestCommittedUSN`` read before the
search when the server has it (nothing committed during the search is missed), else the
highest ``uSNChanged`` seen.

Other LDAP servers: ``modifyTimestamp``, with one-second resolution and set when a change
commits. The cursor is the highest one seen minus ``MARGIN``: an entry changed during the
scan, or in the same second as the last one seen, is read again next time (harmless).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from twostep.adapters.directory.entries import MODIFIED, USN, Attributes, number, text
from twostep.domain.directory import DirectoryKind

MARGIN = timedelta(minutes=5)
_TIME = re.compile(r"^(\d{14})(?:[.,]\d+)?(Z|[+-]\d{4})$")
_FORMAT = "%Y%m%d%H%M%SZ"


@dataclass(frozen=True, slots=True)
class UsnMark:
    value: int
    server: str

    def cursor(self) -> str:
        return f"usn:{self.value}@{self.server}"

    def filter(self) -> str:
        return f"({USN}>={self.value + 1})"

    def changed(self, attributes: Attributes) -> bool:
        """Did this entry change after the mark? (Unknown: assume it did.)"""
        usn = number(attributes, USN)
        return usn is None or usn > self.value


@dataclass(frozen=True, slots=True)
class TimeMark:
    value: datetime

    def cursor(self) -> str:
        return f"ts:{self.value.strftime(_FORMAT)}"

    def filter(self) -> str:
        return f"({MODIFIED}>={self.value.strftime(_FORMAT)})"

    def changed(self, attributes: Attributes) -> bool:
        when = timestamp(attributes)
        return when is None or when >= self.value


Mark = UsnMark | TimeMark


def parse(cursor: str | None, kind: DirectoryKind, server: str) -> Mark | None:
    """The mark a cursor holds, or None (a full scan) when there is none, it is of the
    other kind, of another domain controller, or unreadable."""
    if not cursor:
        return None
    scheme, _, rest = cursor.partition(":")
    if kind is DirectoryKind.ACTIVE_DIRECTORY and scheme == "usn":
        value, _, of = rest.partition("@")
        if value.isdigit() and of == server:
            return UsnMark(int(value), server)
    if kind is DirectoryKind.LDAP and scheme == "ts":
        when = parse_time(rest)
        if when is not None:
            return TimeMark(when)
    return None


def parse_time(value: str) -> datetime | None:
    """A GeneralizedTime (``20260102030405Z``, fractions and offsets allowed), in UTC."""
    match = _TIME.match(value.strip())
    if match is None:
        return None
    try:
        when = datetime.strptime(match[1], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    zone = match[2]
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        when -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:]))
    return when


def timestamp(attributes: Attributes) -> datetime | None:
    value = text(attributes, MODIFIED)
    return parse_time(value) if value is not None else None


class Tracker:
    """Follows the change marks of what one scan reads, and says where the next starts."""

    def __init__(
        self,
        kind: DirectoryKind,
        server: str,
        since: Mark | None = None,
        highest_committed: int | None = None,
    ) -> None:
        self._kind = kind
        self._server = server
        self._since = since
        self._highest_committed = highest_committed
        self._usn: int | None = None
        self._time: datetime | None = None

    def see(self, attributes: Attributes) -> None:
        if self._kind is DirectoryKind.ACTIVE_DIRECTORY:
            usn = number(attributes, USN)
            if usn is not None and (self._usn is None or usn > self._usn):
                self._usn = usn
        else:
            when = timestamp(attributes)
            if when is not None and (self._time is None or when > self._time):
                self._time = when

    def cursor(self) -> str | None:
        """The next scan's cursor (once this one has read everything): None when there is
        no mark at all."""
        if self._kind is DirectoryKind.ACTIVE_DIRECTORY:
            return self._usn_cursor()
        return self._time_cursor()

    def _usn_cursor(self) -> str | None:
        if self._highest_committed is not None:
            return UsnMark(self._highest_committed, self._server).cursor()
        since = self._since.value if isinstance(self._since, UsnMark) else None
        candidates = [v for v in (self._usn, since) if v is not None]
        return UsnMark(max(candidates), self._server).cursor() if candidates else None

    def _time_cursor(self) -> str | None:
        since = self._since.value if isinstance(self._since, TimeMark) else None
        seen = self._time - MARGIN if self._time is not None else None
        candidates = [v for v in (seen, since) if v is not None]
        return TimeMark(max(candidates)).cursor() if candidates else None
