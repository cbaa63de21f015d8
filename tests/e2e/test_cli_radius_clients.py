"""RADIUS clients' MFA Server options from the shell: add with a primary of its own and its
upstream servers (secrets from a file, never an argument), set, list; refused input."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import twostep

UPSTREAM_SECRETS = ("first-upstream-" + "1" * 24, "second-upstream-" + "2" * 24)


def test_mfa_server_options_from_the_shell(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    secrets = tmp_path / "upstreams.txt"
    secrets.write_text("\n".join(UPSTREAM_SECRETS) + "\n")
    added = twostep(
        home,
        "radius-clients",
        "add",
        "vpn",
        "--network",
        "192.0.2.10",
        "--mode",
        "challenge",
        "--primary",
        "radius",
        "--no-require-user-match",
        "--upstream",
        "127.0.0.1:18120:2",
        "--upstream",
        "[::1]:1645",
        "--upstream-secrets-file",
        str(secrets),
    )
    assert "RADIUS client vpn" in added
    assert not any(s in added for s in UPSTREAM_SECRETS)
    listed = twostep(home, "radius-clients", "list")
    assert "radius" in listed and "optional" in listed  # user match not required
    changed = twostep(home, "radius-clients", "set", "vpn", "--oath-fallback")
    assert "primary radius (upstreams 127.0.0.1:18120, ::1:1645)" in changed
    assert "require user match off, OATH fallback on" in changed
    # a secret per server, and no user match without a primary of the client's own
    one = tmp_path / "one.txt"
    one.write_text(UPSTREAM_SECRETS[0] + "\n")
    twostep(
        home,
        "radius-clients",
        "set",
        "vpn",
        "--upstream",
        "127.0.0.1",
        "--upstream",
        "127.0.0.2",
        "--upstream-secrets-file",
        str(one),
        ok=False,
    )
    refused = twostep(home, "radius-clients", "set", "vpn", "--primary", "none", ok=False)
    assert "require_user_match" in refused
    ldap = twostep(
        home, "radius-clients", "set", "vpn", "--primary", "ldap", "--require-user-match"
    )
    assert "primary ldap (upstreams -)" in ldap
    trail = twostep(home, "admin-events", "list", "--action", "radius_client.update")
    assert trail.count("radius_client.update") == 3  # two changes and the refusal
    assert "oath_fallback: False -> True" in trail and "invalid_request" in trail
    assert not any(s in trail for s in UPSTREAM_SECRETS)
