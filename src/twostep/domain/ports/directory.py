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
from twostep.domain.entities import User
from twostep.domain.kinds import MethodKind


@dataclass(slots=True)
class Scan:
    """What one search of a directory yields, page by page, and where the next incremental
    search starts. Some servers only tell that by the entries themselves (the highest change
    mark seen), so an adapter may set ``next_cursor`` once ``entries`` is exhausted: read it
    after them. None: the next search is a full one. No change made during the search is
    missed; the few seen twice are harmless."""

    entries: Iterator[DirectoryEntry]
    next_cursor: str | None = None


class DirectoryConnection(Protocol):
    """One directory's servers, as the reading account. Every call may raise
    ``DirectoryUnavailable`` (no server answered, the account cannot read, a bad filter, the
    MFA group does not exist), also while ``entries`` is read: a partial list never ends
    quietly."""

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

    def bind(self, directory: Directory, dn: str, password: str) -> BindResult:
        """Bind as ``dn`` with ``password`` on a pooled connection of this directory:
        OK, WRONG (also an empty password, never sent), or UNAVAILABLE (no server answered
        within the timeouts, or another failure): the caller fails closed on anything but
        OK. The reading account is not involved (the DN is the one the sync stored)."""
        ...

    def close(self) -> None: ...


class DirectoryRepo(Protocol):
    def add(self, directory: Directory, sealed_password: bytes | None) -> None: ...

    def by_id(self, directory_id: str) -> Directory | None: ...

    def by_name(self, tenant_id: int, name: str) -> Directory | None: ...

    def list(self, tenant_id: int | None = None) -> Sequence[Directory]:
        """A tenant's directories in their order, or every tenant's (None)."""
        ...

    def update(self, directory: Directory, sealed_password: bytes | None) -> None:
        """Store the settings, position, password and cursor of ``directory``."""
        ...

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


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """What a sync writes of a user: the fields the directory owns."""

    name: str  # the display form (domain.names)
    external_id: str
    dn: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None  # E.164
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    """A user of a directory, as the presence sweep reads it."""

    user_id: int
    external_id: str
    name: str
    dn: str | None
    disabled_reason: str | None  # None: not disabled


class DirectoryUserRepo(Protocol):
    """The user reads and writes of a directory sync, a batch at a time: every call takes
    a bounded list (a batch of entries), never all of a directory's users."""

    def by_external_ids(self, directory_id: str, external_ids: Sequence[str]) -> dict[str, User]:
        """The directory's users among ``external_ids``, by external id."""
        ...

    def by_name_keys(self, tenant_id: int, keys: Sequence[str]) -> dict[str, User]:
        """The tenant's users whose lookup key (domain.names.name_key) is among ``keys``."""
        ...

    def create(
        self,
        tenant_id: int,
        directory_id: str,
        new: Sequence[tuple[DirectoryUser, str | None]],
        now: float,
    ) -> list[int]:
        """New users taken from the directory (MFA ``enabled``), each disabled when a
        reason is given; their ids, in order."""
        ...

    def update(self, user_id: int, directory_id: str, user: DirectoryUser) -> None:
        """Write the directory's fields (the name too: a rename) and link the user to the
        directory entry (a user made by hand becomes the directory's)."""
        ...

    def members(self, directory_id: str, after_id: int, limit: int) -> Sequence[Member]:
        """The directory's users by id, after ``after_id`` (keyset pages)."""
        ...

    def disable(self, user_ids: Sequence[int], at: float, reason: str) -> int:
        """Disable those of ``user_ids`` not disabled yet; how many were."""
        ...

    def method_kinds(self, user_ids: Sequence[int]) -> dict[int, set[MethodKind]]:
        """The kinds of method each user has (users without any are left out)."""
        ...
