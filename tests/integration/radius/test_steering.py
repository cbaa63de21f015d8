"""One NAS source port on every worker: the server's own reuseport sockets, on loopback,
receive a fair share of one client socket's requests, and a retransmission lands where
its first copy did."""

from __future__ import annotations

import logging
import select
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from tests.support.radius import access_request
from twostep.interfaces.radius import steering
from twostep.interfaces.radius.server import bind

REQUESTS = 400
WAIT = 2.0  # seconds for one datagram to reach a socket on loopback


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


HOSTS = [
    "127.0.0.1",
    pytest.param(
        "::1", marks=pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
    ),
]


@contextmanager
def group(host: str, workers: int) -> Iterator[tuple[int, list[socket.socket]]]:
    """``workers`` sockets bound as `twostep serve`'s workers bind theirs, on one port."""
    with ExitStack() as stack:
        first = stack.enter_context(bind(host, 0, reuse_port=True, workers=workers))
        port = first.getsockname()[1]
        socks = [first] + [
            stack.enter_context(bind(host, port, reuse_port=True, workers=workers))
            for _ in range(workers - 1)
        ]
        yield port, socks


def landing(socks: list[socket.socket], client: socket.socket, data: bytes, to: object) -> int:
    """Send ``data`` and return the index of the one socket it reached."""
    client.sendto(data, to)
    ready, _, _ = select.select(socks, [], [], WAIT)
    assert len(ready) == 1, f"the datagram reached {len(ready)} sockets"
    assert ready[0].recv(4096) == data
    return socks.index(ready[0])


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("workers", [2, 3, 4])
def test_one_source_port_spreads_over_every_socket(host: str, workers: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with group(host, workers) as (port, socks), socket.socket(family, socket.SOCK_DGRAM) as nas:
        nas.bind((host, 0))  # one NAS, one source port for every request
        where = {}
        for i in range(REQUESTS):
            ident = i % 256
            data = access_request("alice", "123456", ident=ident)
            where[data] = landing(socks, nas, data, (host, port))
        shares = Counter(where.values())
        fair = REQUESTS / workers
        assert sorted(shares) == list(range(workers))
        assert all(0.9 * fair <= count <= 1.1 * fair for count in shares.values()), shares
        # A retransmission keeps its Identifier and Request Authenticator: same socket,
        # so the worker whose duplicate cache holds the first copy answers it.
        for data, first in list(where.items())[:: REQUESTS // 40]:
            assert landing(socks, nas, data, (host, port)) == first


def test_the_identifier_alone_picks_the_socket() -> None:
    """A request with a new authenticator but the same Identifier goes the same way, and
    so does a request from another NAS: the choice never depends on the source."""
    with group("127.0.0.1", 2) as (port, socks), ExitStack() as stack:
        nases = [
            stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) for _ in "ab"
        ]
        for ident in (0, 1, 200, 255):
            seen = {
                landing(socks, nas, access_request("bob", "1", ident=ident), ("127.0.0.1", port))
                for nas in nases
                for _ in range(3)
            }
            assert len(seen) == 1


def test_a_respawned_worker_takes_a_full_share_and_nothing_is_lost_meanwhile() -> None:
    with group("127.0.0.1", 3) as (port, socks), socket.socket(type=socket.SOCK_DGRAM) as nas:
        to = ("127.0.0.1", port)
        socks[0].close()  # a worker died: the group is one short
        alive = socks[1:]
        # Identifiers whose index is now past the end fall back to the kernel's hash.
        for ident in range(30):
            landing(alive, nas, access_request("d", "1", ident=ident), to)
        with bind("127.0.0.1", port, reuse_port=True, workers=3) as respawned:
            alive.append(respawned)
            shares = Counter(
                landing(alive, nas, access_request("d", "1", ident=ident), to)
                for ident in range(255)
            )
        assert sorted(shares.values()) == [85, 85, 85]


def test_a_refused_program_leaves_the_kernels_hash_and_is_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(steering, "SO_ATTACH_REUSEPORT_CBPF", 0x7FFF)  # no such option
    monkeypatch.setattr(steering, "_refusals", [])
    caplog.set_level(logging.WARNING, "twostep.radius")
    with (
        group("127.0.0.1", 2) as (port, socks),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as nas,
    ):
        reached = {
            landing(socks, nas, access_request("c", "1", ident=i), ("127.0.0.1", port))
            for i in range(16)
        }
    assert len(reached) == 1  # the hash of one 4-tuple: one socket, as before
    refusals = [r for r in caplog.records if "refused the worker steering" in r.message]
    assert len(refusals) == 1


def test_the_kernel_refuses_a_socket_outside_any_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steering, "_refusals", [])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        assert steering.attach(sock, 2) is False  # EINVAL: no SO_REUSEPORT group


def test_one_worker_binds_no_group() -> None:
    """A single-worker server shares its port with nobody: a second bind fails."""
    with bind("127.0.0.1", 0, reuse_port=False) as sock:
        port = sock.getsockname()[1]
        with pytest.raises(OSError):
            bind("127.0.0.1", port, reuse_port=True, workers=2).close()
