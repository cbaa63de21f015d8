"""Which address a real ``twostep serve`` records for a connection (the admin trail's
``source``), as the operator guide's TLS section says: ``X-Forwarded-For`` counts only on
a connection from 127.0.0.1 or ::1 (a proxy on this host), and then its right-most
address that is not loopback, never one a client wrote to the left of the proxy's; from
any other address the header is ignored."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from tests.support.servers import serving
from twostep.bootstrap import build
from twostep.config import Config

pytestmark = pytest.mark.slow


def recorded_source(url: str, key: str, local: str, forwarded: str | None) -> str:
    """Create a user from ``local`` with that X-Forwarded-For; the source recorded."""
    user = f"u{secrets.token_hex(4)}"
    headers = {"Authorization": f"Bearer {key}"}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    transport = httpx.HTTPTransport(local_address=local)
    with httpx.Client(base_url=url, transport=transport, timeout=30) as client:
        created = client.post("/v1/tenants/default/users", json={"user": user}, headers=headers)
        assert created.status_code in (200, 201), created.text
    trail = httpx.get(
        f"{url}/v1/tenants/default/admin-events",
        params={"action": "user.create", "target": user},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    (event,) = trail.json()["events"]
    return str(event["source"])


def test_forwarded_for_is_believed_only_from_a_proxy_on_this_host(tmp_path: Path) -> None:
    env = {"TWOSTEP_HOME": str(tmp_path / "home"), "TWOSTEP_SECRET_KEY": secrets.token_hex(32)}
    app = build(Config.from_env(env), upgrade=True)
    app.admin.ensure_default_tenant()
    key = app.admin.bootstrap_admin_key()
    app.close()
    assert key is not None
    with serving(env) as (url,):
        # From 127.0.0.1, as nginx on this host connects: the address nginx appended.
        assert recorded_source(url, key, "127.0.0.1", "198.51.100.7") == "198.51.100.7"
        # A client's own header to the left of it changes nothing.
        spoofed = "203.0.113.66, 198.51.100.7"
        assert recorded_source(url, key, "127.0.0.1", spoofed) == "198.51.100.7"
        # No header: the connection's address.
        assert recorded_source(url, key, "127.0.0.1", None) == "127.0.0.1"
        # From any other address (here 127.0.0.2, not a trusted proxy) it is ignored.
        assert recorded_source(url, key, "127.0.0.2", "198.51.100.7") == "127.0.0.2"
