"""Directories: reading users from an LDAP server, binding as them, and storing the
directories' configuration and sync state."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from twostep.domain.directory import (
    BindResult,
    Directory,
    DirectoryEntry,
    DirectorySettings,
)


@dataclass(frozen=True, slots=True)
class Scan:
    """What one search of a directory yields, page by page, and where the next incremental
    search starts (read from the server before the search, so no change made during it is
    missed; the few seen twice are harmless)."""

    entries: Iterator[DirectoryEntry]
    next_cursor: str | None


class DirectoryConnection(Protocol):
    """One directory's servers, as the reading account. Every call may raise
    ``DirectoryError`` (no server answered, the account cannot read, a bad filter)."""

    def users(self, since: str | None = None) -> Scan:
        """Every user in scope (filter and MFA group), or with ``since`` (a cursor of an
        earlier scan) only those changed since then: paged, never all held at once."""
        ...

    def present(self) -> Iterator[str]:
        """The external ids of every user in scope now (one attribute each: the sweep that
        finds users removed, moved out of the filter or out of the group)."""
        ...

    def close(self) -> None: ...


class DirectoryConnector(Protocol):
    """Opens connections to a directory, and checks passwords by binds (pooled)."""

    def connect(self, settings: DirectorySettings, password: str | None) -> DirectoryConnection: ...

    def bind(
        self, directory: Directory, password_of_reader: str | None, dn: str, password: str
    ) -> BindResult:
        """Bind as ``dn`` with ``password`` on a pooled connection of this directory:
        OK, WRONG, or UNAVAILABLE (no server answered within the timeouts, or another
        failure): the caller fails closed on anything but OK."""
        ...

    def close(self) -> None: ...


class DirectoryRepo(Protocol):
    def add(self, directory: Directory, sealed_password: bytes | None) -> None: ...

    def by_id(self, directory_id: str) -> Directory | None: ...

    def by_name(self, tenant_id: int, name: str) -> Directory | None: ...

    def list(self, tenant_id: int | None = None) -> Sequence[Directory]:
        """A tenant's directories in their order, or every tenant's (None)."""
        ...

    def update(self, directory: Directory, sealed_password: bytes | None) -> None: ...

    def sealed_password(self, directory_id: str) -> bytes | None: ...

    def delete(self, directory_id: str) -> None:
        """Remove the directory; its users stay, no longer linked to it."""
        ...

    def save_progress(self, directory_id: str, progress: str) -> None: ...

    def progress(self, directory_id: str) -> str | None: ...

    def finish_sync(self, directory_id: str, cursor: str | None, at: float) -> None: ...


class LeaseRepo(Protocol):
    def take(self, name: str, holder: str, now: float, until: float) -> bool:
        """Hold the lease until ``until`` if it is free, expired or already ours: one
        conditional statement, so exactly one node holds it."""
        ...

    def release(self, name: str, holder: str) -> None: ...
