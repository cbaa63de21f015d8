"""Opening verified connections to a directory's servers, in failover order.

TLS is Python's ``ssl`` with the directory's CA file (or the system's CAs): the certificate
is required and its name checked against the host of the URL. An ``ldaps://`` URL is TLS
from the first byte; an ``ldap://`` URL is upgraded by StartTLS before anything else is
sent, or, with security ``plain``, left plain, which is refused unless the server is on
loopback. Every failure becomes ``DirectoryUnavailable`` naming the servers and their errors.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import ssl
from dataclasses import dataclass
from typing import Any

from ldap3 import NONE, SYNC, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException

from twostep.domain.directory import DirectorySettings, Security
from twostep.domain.errors import DirectoryUnavailable

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    host: str
    port: int
    tls: bool  # TLS from the first byte (ldaps://)
    start_tls: bool


def endpoints(settings: DirectorySettings) -> list[Endpoint]:
    """The servers in failover order; raises DirectoryUnavailable for a URL the security
    setting does not allow (before any traffic)."""
    found = []
    for url in settings.urls:
        scheme, _, rest = url.partition("://")
        host, port = _host_port(rest, 636 if scheme.lower() == "ldaps" else 389)
        if scheme.lower() == "ldaps":
            found.append(Endpoint(url, host, port, tls=True, start_tls=False))
        elif settings.security is Security.LDAPS:
            raise DirectoryUnavailable(f"{url}: security ldaps needs an ldaps:// URL")
        elif settings.security is Security.STARTTLS:
            found.append(Endpoint(url, host, port, tls=False, start_tls=True))
        elif _loopback(host):
            found.append(Endpoint(url, host, port, tls=False, start_tls=False))
        else:
            raise DirectoryUnavailable(
                f"{url}: plain LDAP sends passwords in the clear; it is only allowed to a "
                "server on loopback (use ldaps or starttls)"
            )
    return found


def _host_port(rest: str, default: int) -> tuple[str, int]:
    if rest.startswith("["):  # [::1]:636
        host, _, tail = rest[1:].partition("]")
        port = tail.removeprefix(":")
    else:
        host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
    if not host:
        raise DirectoryUnavailable(f"{rest!r}: no host")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise DirectoryUnavailable(f"{rest!r}: the port is not a number from 1 to 65535")
    return host, int(port) if port else default


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificates required and names checked; TLS 1.2 or later (the default context's)."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise DirectoryUnavailable(f"the CA file {ca_file} cannot be used: {exc}") from exc


class VerifiedTls(Tls):
    """ldap3's Tls with our context: ldap3 would turn hostname checks off and redo them with
    ``ssl.match_hostname``, deprecated and gone from Python 3.12."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED)
        self._context = context

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        connection.socket = self._context.wrap_socket(
            connection.socket,
            server_side=False,
            do_handshake_on_connect=do_handshake,
            server_hostname=connection.server.host,
        )


class Opener:
    """Opens an unbound connection to the first server that answers (TLS established)."""

    def __init__(self, settings: DirectorySettings) -> None:
        self._endpoints = endpoints(settings)
        needs_tls = any(e.tls or e.start_tls for e in self._endpoints)
        self._tls = VerifiedTls(tls_context(settings.ca_file)) if needs_tls else None
        self._connect_timeout = settings.connect_timeout
        # ldap3 hands the receive timeout to SO_RCVTIMEO as whole seconds.
        self._receive_timeout = max(1, math.ceil(settings.operation_timeout))

    def open(self) -> tuple[Connection, Endpoint]:
        errors = []
        for endpoint in self._endpoints:
            try:
                return self._open(endpoint), endpoint
            except (LDAPException, OSError, DirectoryUnavailable) as exc:
                errors.append(f"{endpoint.url}: {describe(exc)}")
        raise DirectoryUnavailable("no server of the directory answered: " + "; ".join(errors))

    def _open(self, endpoint: Endpoint) -> Connection:
        server = Server(
            endpoint.host,
            port=endpoint.port,
            use_ssl=endpoint.tls,
            tls=self._tls,
            get_info=NONE,
            connect_timeout=self._connect_timeout,
        )
        connection = Connection(
            server,
            client_strategy=SYNC,
            auto_bind=False,
            raise_exceptions=False,
            receive_timeout=self._receive_timeout,
            read_only=True,
            auto_referrals=False,
            return_empty_attributes=False,
            auto_escape=False,  # filters are escaped where they are built
        )
        try:
            connection.open(read_server_info=False)
            if endpoint.start_tls and not connection.start_tls(read_server_info=False):
                raise DirectoryUnavailable(f"StartTLS refused: {result_text(connection)}")
        except BaseException:
            discard(connection)
            raise
        return connection


def describe(exc: BaseException) -> str:
    """An error's words without anything the connection holds (ldap3's repr of a connection
    shows its password)."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def result_text(connection: Connection) -> str:
    result = connection.result or {}
    words = " ".join(str(result.get(k) or "") for k in ("description", "message")).strip()
    return f"{words} ({result.get('result')})"


def discard(connection: Connection) -> None:
    """Close without a word to the server (it may be the reason we discard)."""
    connection.password = None
    # Closing a broken socket may fail: it is gone either way.
    with contextlib.suppress(Exception):
        connection.strategy.close()
    # ldap3 leaves a socket that failed to connect open (its connection counts as closed).
    if connection.socket is not None:
        with contextlib.suppress(OSError):
            connection.socket.close()
