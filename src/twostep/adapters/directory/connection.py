"""Reading a directory as its reading account: the users in scope, paged, and incremental.

Scope is the user filter, and membership of the MFA group when one is set. A search is paged
(the server's paged results control, ``page_size`` entries a page) and yielded one entry at
a time, so a directory of any size is read in bounded memory. A search that ends in an error,
even after some pages, raises ``DirectoryUnavailable``: a partial list must never look like a
complete one (the caller would take the missing users for removed ones).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from ldap3 import BASE, SIMPLE, SUBTREE, Connection
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from twostep.adapters.directory import marks
from twostep.adapters.directory.entries import (
    MODIFIED,
    USN,
    Attributes,
    identifier,
    normalise,
    number,
    requested,
    text,
    to_entry,
)
from twostep.adapters.directory.servers import Opener, describe, discard, result_text
from twostep.domain.directory import DirectoryEntry, DirectoryKind, DirectorySettings
from twostep.domain.errors import DirectoryUnavailable
from twostep.domain.ports.directory import Scan

log = logging.getLogger("twostep.directory")

SUCCESS = 0
NO_SUCH_OBJECT = 32


def scope_filter(settings: DirectorySettings) -> str:
    """The users in scope: the filter, and direct members of the MFA group when set."""
    wanted = settings.filter.strip()
    if not wanted.startswith("("):
        wanted = f"({wanted})"
    if settings.mfa_group:
        return f"(&{wanted}(memberOf={escape_filter_chars(settings.mfa_group)}))"
    return wanted


class LdapConnection:
    """A ``DirectoryConnection``: one connection, bound as the reading account."""

    def __init__(self, settings: DirectorySettings, connection: Connection, server: str) -> None:
        self._settings = settings
        self._connection = connection
        self._server = server  # the URL it reached: an AD cursor is only good on that server

    @classmethod
    def open(cls, settings: DirectorySettings, password: str | None) -> LdapConnection:
        """Connect (failover over the URLs) and bind as the reading account."""
        secret = password
        if secret is None and settings.bind_password is not None:
            secret = settings.bind_password.get_secret_value()
        if not secret:
            # An empty password would be an "unauthenticated bind": it succeeds and reads
            # nothing, and an empty directory is not what is there.
            raise DirectoryUnavailable(f"the reading account {settings.bind_dn} has no password")
        connection, endpoint = Opener(settings).open()
        try:
            connection.user = settings.bind_dn
            connection.password = secret.encode()
            connection.authentication = SIMPLE
            bound = connection.bind(read_server_info=False)
        except (LDAPException, OSError) as exc:
            discard(connection)
            raise DirectoryUnavailable(f"{endpoint.url}: bind failed: {describe(exc)}") from exc
        finally:
            connection.password = None
        if not bound:
            why = result_text(connection)
            discard(connection)
            raise DirectoryUnavailable(
                f"{endpoint.url} refused the reading account {settings.bind_dn}: {why}"
            )
        return cls(settings, connection, endpoint.url)

    def users(self, since: str | None = None) -> Scan:
        settings = self._settings
        server, highest = self._position()
        since_mark = marks.parse(since, settings.kind, server)
        wanted = scope_filter(settings)
        group = self._group()
        if since_mark is not None and not (group is not None and since_mark.changed(group)):
            # A change of the group's members marks the group, not them (AD and OpenLDAP's
            # memberof alike): when the group changed, every member is read again.
            wanted = f"(&{wanted}{since_mark.filter()})"
        tracker = marks.Tracker(settings.kind, server, since_mark, highest)
        scan = Scan(iter(()))
        scan.entries = self._entries(wanted, tracker, scan)
        return scan

    def present(self) -> Iterator[str]:
        settings = self._settings
        self._group()
        name = settings.external_id_attribute
        for _, attributes in self._search(scope_filter(settings), [name]):
            found = identifier(name, attributes)
            if found is not None:
                yield found

    def close(self) -> None:
        try:
            self._connection.unbind()
        except (LDAPException, OSError):
            discard(self._connection)

    def _entries(self, wanted: str, tracker: marks.Tracker, scan: Scan) -> Iterator[DirectoryEntry]:
        """The entries; the scan's cursor once all are read (a scan left half-way, or
        broken, leaves it None)."""
        settings = self._settings
        for dn, attributes in self._search(wanted, requested(settings)):
            tracker.see(attributes)
            entry = to_entry(dn, attributes, settings)
            if entry is None:
                log.warning(
                    "directory entry %s has no %s: skipped", dn, settings.external_id_attribute
                )
                continue
            yield entry
        scan.next_cursor = tracker.cursor()

    def _search(self, wanted: str, attributes: list[str]) -> Iterator[tuple[str, Attributes]]:
        connection = self._connection
        try:
            for response in connection.extend.standard.paged_search(
                self._settings.base_dn,
                wanted,
                SUBTREE,
                attributes=attributes,
                paged_size=self._settings.page_size,
                generator=True,
            ):
                # AD answers references to other partitions (searchResRef): not users.
                if response.get("type") == "searchResEntry":
                    yield response["dn"], normalise(response["raw_attributes"])
        except (LDAPException, OSError) as exc:
            raise DirectoryUnavailable(f"{self._server}: search failed: {describe(exc)}") from exc
        if connection.result is None or connection.result.get("result") != SUCCESS:
            raise DirectoryUnavailable(f"{self._server}: search failed: {result_text(connection)}")

    def _read(self, dn: str, attributes: list[str]) -> Attributes | None:
        """One entry by DN (None: no such entry)."""
        connection = self._connection
        try:
            connection.search(dn, "(objectClass=*)", BASE, attributes=attributes)
        except (LDAPException, OSError) as exc:
            raise DirectoryUnavailable(f"{self._server}: read failed: {describe(exc)}") from exc
        code = (connection.result or {}).get("result")
        if code == NO_SUCH_OBJECT:
            return None
        if code != SUCCESS:
            raise DirectoryUnavailable(f"{self._server}: read failed: {result_text(connection)}")
        for response in connection.response or ():
            if response.get("type") == "searchResEntry":
                return normalise(response["raw_attributes"])
        return None

    def _group(self) -> Attributes | None:
        """The MFA group's change marks; a group that does not exist is an error, not an
        empty scope (a mistyped DN must not make every user look removed)."""
        group = self._settings.mfa_group
        if not group:
            return None
        found = self._read(group, [USN, MODIFIED])
        if found is None:
            raise DirectoryUnavailable(f"the MFA group {group} does not exist")
        return found

    def _position(self) -> tuple[str, int | None]:
        """Which server this is, and (AD) its highest committed USN, before any search."""
        if self._settings.kind is not DirectoryKind.ACTIVE_DIRECTORY:
            return self._server, None
        root = self._read("", ["highestCommittedUSN", "dsServiceName"]) or {}
        return text(root, "dsServiceName") or self._server, number(root, "highestCommittedUSN")
