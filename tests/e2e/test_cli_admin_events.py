"""The admin trail from the shell: each command's change and each refused command is one
event naming the OS account; `twostep admin-events list` reads them as a table, JSON
Lines or CSV."""

from __future__ import annotations

import csv
import getpass
import io
import json
from pathlib import Path

import pytest

from tests.support.cli import twostep

pytestmark = pytest.mark.slow


def events(home: Path, *filters: str) -> list[dict[str, object]]:
    out = twostep(home, "admin-events", "list", "--format", "json", *filters)
    return [json.loads(line) for line in out.splitlines()]


def test_changes_and_refusals_from_the_shell(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    twostep(home, "users", "add", "alice", "--email", "alice@example.com")
    assert "[user_not_found]" in twostep(home, "users", "delete", "nobody", ok=False)
    twostep(home, "integrations", "add", "imap", "--legacy")
    twostep(home, "integrations", "set", "imap", "--no-legacy")
    assert "[integration_not_found]" in twostep(
        home, "integrations", "set", "nope", "--legacy", ok=False
    )
    password = home.parent / "password.txt"
    password.write_text("a-local-password-0123\n")
    twostep(home, "users", "set-password", "alice", "--password-file", str(password))
    twostep(home, "users", "set-password", "alice", "--clear")

    found = [(e["action"], e["target"], e["result"], e["changes"]) for e in events(home)]
    assert found == [
        (
            "user.create",
            "alice",
            "ok",
            {
                "name": [None, "alice"],
                "email": [None, "alice@example.com"],
                "mfa": [None, "enabled"],
            },
        ),
        ("user.delete", "nobody", "user_not_found", {}),
        ("integration.create", "imap", "ok", found[2][3]),
        ("integration.update", "imap", "ok", {"legacy": [True, False]}),
        ("integration.update", "nope", "integration_not_found", {}),
        ("password.set", "alice", "ok", {"password": [None, "***"]}),
        ("password.clear", "alice", "ok", {"password": ["***", None]}),
    ]
    assert found[2][3]["legacy"] == [None, True]
    who = {(e["actor"], e["source"], e["interface"], e["tenant"]) for e in events(home)}
    assert who == {("operator", f"cli:{getpass.getuser()}", "cli", "default")}

    listed = twostep(home, "integrations", "list")
    assert listed.splitlines()[0].split()[:3] == ["NAME", "KEY_ID", "LEGACY"]

    # Filters, and the two other formats.
    assert [e["action"] for e in events(home, "--action", "integration.")] == [
        "integration.create",
        "integration.update",
        "integration.update",
    ]
    assert [e["target"] for e in events(home, "--target", "alice", "--limit", "1")] == ["alice"]
    assert events(home, "--since", "2999-01-01T00:00:00Z") == []
    table = twostep(home, "admin-events", "list", "--action", "user.delete").splitlines()
    assert table[0].split() == [
        "TIME",
        "TENANT",
        "ACTOR",
        "SOURCE",
        "ACTION",
        "TARGET",
        "RESULT",
        "CHANGES",
    ]
    assert "user_not_found" in table[1] and "nobody" in table[1]
    out = twostep(home, "admin-events", "list", "--format", "csv", "--tenant", "default")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["action"] for r in rows][:2] == ["user.create", "user.delete"]
    assert "a-local-password-0123" not in out
    assert "[tenant_not_found]" in twostep(
        home, "admin-events", "list", "--tenant", "nowhere", ok=False
    )
    assert "[invalid_request]" in twostep(
        home, "admin-events", "list", "--since", "yesterday", ok=False
    )
