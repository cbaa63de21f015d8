"""`twostep methods add` takes every kind the registry enrolls, with that kind's fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import twostep

pytestmark = pytest.mark.slow


def test_every_kind_from_the_shell(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "alice")
    out = twostep(home, "methods", "add", "alice", "email", "--email", "Alice@Example.com")
    assert "email to A\u2022\u2022\u2022@example.com registered for alice" in out
    out = twostep(home, "methods", "add", "alice", "sms", "--phone", "+14155550123")
    assert "sms to +1 \u2022\u2022\u2022 0123 registered for alice" in out
    out = twostep(
        home,
        "methods",
        "add",
        "alice",
        "oath_token",
        "--serial",
        "TK1",
        "--secret",
        "JBSWY3DPEHPK3PXP",
    )
    assert "oath_token TK1 registered for alice" in out
    listed = twostep(home, "methods", "list", "alice")
    assert all(kind in listed for kind in ("email", "sms", "oath_token"))


def test_a_missing_field_is_the_kinds_own_refusal(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "alice")
    out = twostep(home, "methods", "add", "alice", "sms", ok=False)
    assert "[invalid_request] phone" in out and "Traceback" not in out
    out = twostep(home, "methods", "add", "alice", "email", "--email", "not an address", ok=False)
    assert "email must be one address" in out
    out = twostep(
        home, "methods", "add", "alice", "sms", "--phone", "+14155550123", "--with-pin", ok=False
    )
    assert "sms takes no PIN" in out
