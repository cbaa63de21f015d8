"""`twostep admins grant|revoke|list` and `twostep users sign-out` from the shell, each
change one admin event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import twostep

pytestmark = pytest.mark.slow


def test_grant_list_revoke_and_sign_out(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "alice")
    granted = twostep(home, "admins", "grant", "alice", "--role", "help_desk")
    assert "default/alice is help_desk over default" in granted
    grant_id = granted.rsplit("(grant ", 1)[1].rstrip(")\n")
    listed = twostep(home, "admins", "list")
    assert grant_id in listed and "help_desk" in listed
    assert "[admin_grant_exists]" in twostep(
        home, "admins", "grant", "alice", "--role", "help_desk", ok=False
    )
    assert "0 page session(s) ended" in twostep(home, "users", "sign-out", "alice")
    assert "revoked" in twostep(home, "admins", "revoke", grant_id)
    assert grant_id not in twostep(home, "admins", "list")
    out = twostep(home, "admin-events", "list", "--format", "json")
    actions = [(e["action"], e["result"]) for e in map(json.loads, out.splitlines())]
    assert [a for a in actions if a[0].startswith(("admin_grant", "sessions"))] == [
        ("admin_grant.create", "ok"),
        ("admin_grant.create", "admin_grant_exists"),
        ("sessions.revoke", "ok"),
        ("admin_grant.revoke", "ok"),
    ]
