"""An in-memory directory behind the ``DirectoryConnector`` port, for the sync's unit
tests: entries carry a change counter (like Active Directory's uSNChanged), so an
incremental scan answers exactly those changed since a cursor; it can be taken down, or
fail half-way through a scan."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from twostep.domain.directory import BindResult, Directory, DirectoryEntry, DirectorySettings
from twostep.domain.errors import DirectoryUnavailable
from twostep.domain.ports.directory import DirectoryConnection, Scan

_LOCK = threading.Lock()


def entry(name: str, **fields: Any) -> DirectoryEntry:
    """An entry whose stable id and DN follow from its user ID unless given."""
    base = name.split("@", maxsplit=1)[0]
    values: dict[str, Any] = {
        "external_id": f"uuid-{base}",
        "dn": f"CN={base},OU=People,DC=example,DC=com",
        "user_id": name,
        "first_name": base.capitalize(),
        "last_name": "Example",
        "email": f"{base}@example.com",
    }
    values.update(fields)
    return DirectoryEntry(**values)


@dataclass
class FakeDirectory:
    entries: dict[str, tuple[int, DirectoryEntry]] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    down: bool = False
    fail_present: bool = False  # the presence sweep fails before its end
    fail_after: int | None = None  # a scan fails after this many entries
    connections: int = 0
    open_now: int = 0  # connections open at once (two syncs of one directory: 2)
    most_open: int = 0
    delay: float = 0.0  # seconds per entry read: a slow directory
    scans: list[str | None] = field(default_factory=list)  # the cursor of every scan
    passwords: list[str | None] = field(default_factory=list)

    def put(self, *entries: DirectoryEntry) -> None:
        for e in entries:
            self.entries[e.external_id] = (next(self.counter), e)

    def change(self, external_id: str, **fields: Any) -> None:
        _seen, old = self.entries[external_id]
        self.put(replace(old, **fields))

    def remove(self, external_id: str) -> None:
        del self.entries[external_id]

    def hide(self, external_id: str) -> None:
        """Out of scope, its change counter unmoved (Active Directory does not move a
        member's uSNChanged when a group loses or gains it)."""
        number, found = self.entries[external_id]
        self.entries[external_id] = (-abs(number), found)

    def show(self, external_id: str) -> None:
        """Back in scope, its change counter unmoved."""
        number, found = self.entries[external_id]
        self.entries[external_id] = (abs(number), found)

    def connect(self, settings: DirectorySettings, password: str | None) -> FakeConnection:
        self.passwords.append(password)
        if self.down:
            raise DirectoryUnavailable("ldap://dc1.example.com:389: connection refused")
        with _LOCK:
            self.connections += 1
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
        return FakeConnection(self)

    def bind(self, directory: Directory, dn: str, password: str) -> BindResult:
        return BindResult.UNAVAILABLE if self.down else BindResult.WRONG

    def close(self) -> None:
        pass


class FakeConnection:
    def __init__(self, directory: FakeDirectory) -> None:
        self.directory = directory
        self.closed = False

    def users(self, since: str | None = None) -> Scan:
        self.directory.scans.append(since)
        last = max((abs(n) for n, _e in self.directory.entries.values()), default=0)
        start = int(since) if since is not None else 0
        wanted = [
            e
            for n, e in sorted(self.directory.entries.values(), key=lambda item: abs(item[0]))
            if n > start
        ]
        return Scan(self._stream(wanted), str(last))

    def _stream(self, entries: list[DirectoryEntry]) -> Iterator[DirectoryEntry]:
        for index, e in enumerate(entries):
            if self.directory.fail_after is not None and index >= self.directory.fail_after:
                raise DirectoryUnavailable("ldap://dc1.example.com:389: search failed")
            if self.directory.delay:
                time.sleep(self.directory.delay)
            yield e

    def present(self) -> Iterator[str]:
        for n, e in list(self.directory.entries.values()):
            if n > 0:
                yield e.external_id
        if self.directory.fail_present:  # the last page never came
            raise DirectoryUnavailable("ldap://dc1.example.com:389: search failed")

    def close(self) -> None:
        if not self.closed:
            with _LOCK:
                self.directory.open_now -= 1
        self.closed = True


def _is_the_port(connection: FakeConnection) -> DirectoryConnection:
    return connection  # mypy holds the fake to the port
