"""Primary passwords proxied upstream: what is never sent, and a server that is not there."""

from __future__ import annotations

import socket

from twostep.domain.entities import RadiusUpstream, Tenant
from twostep.domain.ports.users import Verdict
from twostep.interfaces.radius.upstream import UpstreamPasswords

TENANT = Tenant(id=1, name="default")


def closed_port() -> int:
    """A loopback UDP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_blank_or_overlong_password_asks_no_server() -> None:
    # A server that could answer would be asked: none is, so nothing can be "unavailable".
    servers = [(RadiusUpstream("127.0.0.1", closed_port(), 0.5), b"secret")]
    check = UpstreamPasswords(servers, "alice")
    assert check.check(TENANT, None, None, "").verdict is Verdict.WRONG
    assert check.check(TENANT, None, None, "x" * 129).verdict is Verdict.WRONG


def test_no_server_answering_is_unavailable_and_names_them() -> None:
    ports = [closed_port(), closed_port()]
    servers = [(RadiusUpstream("127.0.0.1", p, 0.5), b"secret") for p in ports]
    found = UpstreamPasswords(servers, "alice").check(TENANT, None, None, "correct horse")
    assert found.verdict is Verdict.UNAVAILABLE
    assert found.detail == (
        f"no upstream RADIUS server answered: 127.0.0.1:{ports[0]}, 127.0.0.1:{ports[1]}"
    )
