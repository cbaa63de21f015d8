"""Binds that must never reach a server: they are WRONG before any connection is opened."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from twostep.adapters.directory.binds import BindPool
from twostep.domain.directory import BindResult, DirectorySettings, Security


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that would accept a connection (and so tell one was made)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def pool_at(sock: socket.socket) -> BindPool:
    port = sock.getsockname()[1]
    settings = DirectorySettings(
        urls=(f"ldap://127.0.0.1:{port}",),
        security=Security.PLAIN,
        bind_dn="cn=r",
        base_dn="dc=x",
        connect_timeout=0.5,
        operation_timeout=1,
    )
    return BindPool(settings)


def connections_made(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            accepted, _ = sock.accept()
        except BlockingIOError:
            return count
        accepted.close()
        count += 1


@pytest.mark.parametrize(
    ("dn", "password"),
    [
        ("cn=alice,dc=x", ""),  # an "unauthenticated bind" would succeed
        ("", "secret"),  # an anonymous bind would succeed
        ("cn=alice,dc=x", "sec\0ret"),
        ("cn=alice\0,dc=x", "secret"),
        ("cn=alice,dc=x", "\udcff"),  # not encodable: no password is this
    ],
)
def test_refused_without_a_round_trip(listener: socket.socket, dn: str, password: str) -> None:
    pool = pool_at(listener)

    assert pool.bind(dn, password) is BindResult.WRONG
    assert connections_made(listener) == 0


def test_a_real_password_is_sent(listener: socket.socket) -> None:
    # The counterpart: with a password the pool does connect (this listener never answers,
    # so the bind ends UNAVAILABLE after the operation timeout).
    pool = pool_at(listener)

    assert pool.bind("cn=alice,dc=x", "secret") is BindResult.UNAVAILABLE
    assert connections_made(listener) >= 1


class _Pooled:
    """A pooled ldap3 connection whose last bind succeeded, and whose next bind returns
    without an answer of its own (what a hung server may leave): ``result`` untouched."""

    def __init__(self) -> None:
        self.result: dict[str, object] | None = {"result": 0, "description": "success"}
        self.user = self.password = self.authentication = None
        self.socket = None
        self.strategy = self

    def close(self) -> None:
        pass

    def bind(self, read_server_info: bool = True) -> bool:
        return False


def test_a_bind_without_its_own_answer_is_never_the_last_ones_success(
    listener: socket.socket,
) -> None:
    pool = pool_at(listener)
    pool._idle.append(_Pooled())  # type: ignore[arg-type]

    assert pool.bind("cn=mallory,dc=x", "wrong") is BindResult.UNAVAILABLE
