"""Where a primary password is checked: by a bind as the user to the directory they came
from (when that directory does password binds), else by Twostep's own argon2id hash.

A directory that does not answer fails closed (UNAVAILABLE: the sign-in answers
``directory_unavailable``); the local hash is never a fallback for a directory user, or a
directory outage would turn into a password check against a stale or missing hash.
"""

from __future__ import annotations

from typing import Protocol

from twostep.domain.directory import BindResult, Directory
from twostep.domain.entities import Tenant, User
from twostep.domain.ports.directory import DirectoryConnector
from twostep.domain.ports.users import PasswordCheck, PrimaryPasswords, Verdict


class Reader(Protocol):
    @property
    def directory(self) -> Directory: ...


class Readers(Protocol):
    def reader(self, directory_id: str) -> Reader | None:
        """The directory (cached briefly per process), or None when it was deleted."""
        ...


_VERDICTS = {
    BindResult.OK: Verdict.MATCH,
    BindResult.WRONG: Verdict.WRONG,
    BindResult.UNAVAILABLE: Verdict.UNAVAILABLE,
}


class TenantPasswords:
    """Implements :class:`PrimaryPasswords`: a directory bind or the local hash, per user."""

    def __init__(
        self, local: PrimaryPasswords, readers: Readers, connector: DirectoryConnector
    ) -> None:
        self.local = local
        self.readers = readers
        self.connector = connector

    def check(
        self, tenant: Tenant, user: User | None, stored: str | None, password: str
    ) -> PasswordCheck:
        directory = self._directory_of(user)
        if directory is None or user is None or user.dn is None:
            return self.local.check(tenant, user, stored, password)
        verdict = _VERDICTS[self.connector.bind(directory, user.dn, password)]
        if verdict is Verdict.UNAVAILABLE:
            return PasswordCheck(verdict, f"directory {directory.name!r} did not answer the bind")
        return PasswordCheck(verdict)

    def _directory_of(self, user: User | None) -> Directory | None:
        if user is None or user.directory_id is None:
            return None
        reader = self.readers.reader(user.directory_id)
        if reader is None or not reader.directory.settings.password_bind:
            return None
        return reader.directory


class DirectoryPasswords:
    """Implements :class:`PrimaryPasswords` for a RADIUS client whose primary is ``ldap``:
    a bind as the user to the directory they came from, and nothing else. A user of no
    directory (unknown, made by hand, or of a deleted directory) has a wrong password:
    never the local hash, which such a client's admin did not choose. The directory's
    ``password_bind`` is not consulted: the client's own setting asks for the bind."""

    def __init__(self, readers: Readers, connector: DirectoryConnector) -> None:
        self.readers = readers
        self.connector = connector

    def check(
        self, tenant: Tenant, user: User | None, stored: str | None, password: str
    ) -> PasswordCheck:
        if user is None or user.directory_id is None or user.dn is None:
            return PasswordCheck(Verdict.WRONG)
        reader = self.readers.reader(user.directory_id)
        if reader is None:
            return PasswordCheck(Verdict.WRONG)
        directory = reader.directory
        verdict = _VERDICTS[self.connector.bind(directory, user.dn, password)]
        if verdict is Verdict.UNAVAILABLE:
            return PasswordCheck(verdict, f"directory {directory.name!r} did not answer the bind")
        return PasswordCheck(verdict)
