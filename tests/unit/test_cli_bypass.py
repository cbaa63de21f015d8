"""The one-time bypass and the trusted-address flag from the shell: granted within its
bounds, cancelled, listed, and on the admin trail."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import twostep


def test_a_bypass_is_granted_cancelled_and_recorded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "carol")
    granted = twostep(home, "users", "bypass", "carol", "--seconds", "600")
    assert "skips the second factor, once" in granted
    assert "bypass_until" in twostep(home, "users", "show", "carol")
    assert "bypass cancelled" in twostep(home, "users", "bypass", "carol", "--cancel")
    assert "no open bypass" in twostep(home, "users", "bypass", "carol", "--cancel")
    refused = twostep(home, "users", "bypass", "carol", "--seconds", "1801", ok=False)
    assert "1801 is not in the range 1<=x<=1800" in refused
    trail = twostep(home, "admin-events", "list")
    assert "user.bypass " in trail and "user.bypass_cancel" in trail
    assert "no user 'nobody'" in twostep(home, "users", "bypass", "nobody", ok=False)


def test_an_integration_is_flagged_to_vouch_for_its_client_addresses(tmp_path: Path) -> None:
    home = tmp_path / "home"
    twostep(home, "db", "upgrade")
    twostep(home, "integrations", "add", "web")
    changed = twostep(home, "integrations", "set", "web", "--trusted-client-addresses")
    assert "trusted_client_addresses on" in changed and "legacy" not in changed
    listed = twostep(home, "integrations", "list")
    assert "TRUSTED_CLIENT_ADDRESSES" in listed and "yes" in listed
    assert "give --legacy" in twostep(home, "integrations", "set", "web", ok=False)
    assert "integration.update" in twostep(home, "admin-events", "list")
