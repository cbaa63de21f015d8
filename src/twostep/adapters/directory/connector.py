"""The ``DirectoryConnector`` over ldap3: reading connections opened on demand, and one
bind pool per directory, made at its first bind and made anew when its settings change.

ldap3 (with pyasn1, about 5 MiB) is imported at the first connection or bind: every
serving process builds a connector, and a deployment without a directory never needs it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from twostep.domain.directory import BindResult, Directory, DirectorySettings
from twostep.domain.ports.directory import DirectoryConnector

if TYPE_CHECKING:
    from twostep.adapters.directory.binds import BindPool
    from twostep.adapters.directory.connection import LdapConnection


class LdapConnector:
    def __init__(self) -> None:
        self._pools: dict[str, tuple[DirectorySettings, BindPool]] = {}
        self._lock = threading.Lock()

    def connect(self, settings: DirectorySettings, password: str | None) -> LdapConnection:
        """Connected and bound as the reading account (``password``, else the settings'
        ``bind_password``); raises DirectoryUnavailable."""
        from twostep.adapters.directory.connection import LdapConnection

        return LdapConnection.open(settings, password)

    def bind(self, directory: Directory, dn: str, password: str) -> BindResult:
        return self._pool(directory).bind(dn, password)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, {}
        for _, pool in pools.values():
            pool.close()

    def _pool(self, directory: Directory) -> BindPool:
        from twostep.adapters.directory.binds import BindPool

        with self._lock:
            known = self._pools.get(directory.id)
            if known is not None and known[0] == directory.settings:
                return known[1]
            pool = BindPool(directory.settings)
            self._pools[directory.id] = (directory.settings, pool)
        if known is not None:
            known[1].close()  # binds under way finish; their connections are then closed
        return pool


def _is_the_port(connector: LdapConnector) -> DirectoryConnector:
    return connector  # mypy holds LdapConnector (and LdapConnection) to the port
