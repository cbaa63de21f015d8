"""The `twostep users` commands find a user by any case or width of their name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import twostep

pytestmark = pytest.mark.slow

FULL_WIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


def test_users_commands_take_any_variant_of_the_name(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "Alice")
    out = twostep(home, "users", "add", "ALICE", ok=False)
    assert "[user_exists] user 'Alice' already exists" in out
    out = twostep(home, "users", "add", "\u0430lice", ok=False)  # Cyrillic a
    assert "[invalid_request]" in out and "mixes scripts (Cyrillic and Latin)" in out
    assert "name               Alice" in twostep(home, "users", "show", FULL_WIDTH_ALICE)
    twostep(home, "users", "delete", "alice")
    assert "Alice" not in twostep(home, "users", "list")
