"""Checking a user's password by a bind as the user, on a small pool of warm connections.

A pooled connection has done its TCP and TLS handshakes once; a bind on it is one round trip
and ~0.2 ms of our CPU. At most ``pool_size`` binds run at once per directory and process; a
caller waits up to ``operation_timeout`` for a free connection. A connection that fails is
closed and never given back; a pooled one that fails (the server restarted, or closed it as
idle) is replaced once by a new one, which tries the servers in failover order.

Never sent: an empty password (LDAP's "unauthenticated bind" would succeed without any
password), a NUL in the DN or the password. Never logged: the password.
"""

from __future__ import annotations

import logging
import threading

from ldap3 import SIMPLE, Connection
from ldap3.core.exceptions import LDAPException

from twostep.adapters.directory.servers import Opener, describe, discard, result_text
from twostep.adapters.ratelog import LimitedLog
from twostep.domain.directory import BindResult, DirectorySettings
from twostep.domain.errors import DirectoryUnavailable

log = logging.getLogger("twostep.directory")

SUCCESS = 0
# The server answered, and refused these credentials or this account's sign-in:
# inappropriateAuthentication, invalidCredentials (AD: also disabled, locked, expired:
# "data 533/775/532" in the message), insufficientAccessRights, unwillingToPerform (389 DS:
# an inactivated account).
REFUSED = frozenset({48, 49, 50, 53})


class BindPool:
    """The bind connections of one directory in this process (thread-safe)."""

    def __init__(self, settings: DirectorySettings) -> None:
        self._opener: Opener | None = None
        self._settings = settings
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(settings.pool_size)
        self._closed = False
        # A directory that is down fails every bind: one line per problem a minute, not one
        # a bind.
        self._log = LimitedLog(log)

    def bind(self, dn: str, password: str) -> BindResult:
        if not password or not dn or "\0" in password or "\0" in dn:
            return BindResult.WRONG
        try:
            secret = password.encode("utf-8")  # as typed: no SASLprep, as AD and libldap
        except UnicodeEncodeError:  # a lone surrogate: no password is that
            return BindResult.WRONG
        if not self._slots.acquire(timeout=self._settings.operation_timeout):
            self._log.warning(
                "busy", "directory binds: no free connection within the operation timeout"
            )
            return BindResult.UNAVAILABLE
        try:
            return self._bind(dn, secret)
        finally:
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            discard(connection)

    def _bind(self, dn: str, secret: bytes) -> BindResult:
        pooled = self._take()
        if pooled is not None:
            outcome = self._attempt(pooled, dn, secret)
            if outcome is not None:
                return outcome
        try:
            fresh = self._open()
        except DirectoryUnavailable as exc:
            self._log.warning(f"open:{exc.message}", "directory bind: %s", exc.message)
            return BindResult.UNAVAILABLE
        return self._attempt(fresh, dn, secret) or BindResult.UNAVAILABLE

    def _attempt(self, connection: Connection, dn: str, secret: bytes) -> BindResult | None:
        """The bind's outcome, or None when the connection failed (it is discarded)."""
        try:
            connection.user = dn
            connection.password = secret
            connection.authentication = SIMPLE
            # A pooled connection still holds its last bind's result: never read that one
            # as this bind's (a success must be this bind's own answer).
            connection.result = None
            bound = connection.bind(read_server_info=False)
        except (LDAPException, OSError, ValueError) as exc:
            discard(connection)
            log.info("directory bind: connection failed: %s", describe(exc))
            return None
        finally:
            connection.password = None  # ldap3 would keep it (and show it in its repr)
        code = (connection.result or {}).get("result")
        if code == SUCCESS and bound is True:
            self._give_back(connection)
            return BindResult.OK
        if code in REFUSED:
            self._give_back(connection)  # a refused bind leaves the connection anonymous
            return BindResult.WRONG
        text = result_text(connection)
        self._log.warning(f"result:{text}", "directory bind: %s", text)
        discard(connection)
        return BindResult.UNAVAILABLE

    def _open(self) -> Connection:
        if self._opener is None:  # lazily: settings are checked at the first bind
            self._opener = Opener(self._settings)
        connection, _ = self._opener.open()
        return connection

    def _take(self) -> Connection | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _give_back(self, connection: Connection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(connection)
                return
        discard(connection)
