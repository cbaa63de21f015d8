"""The CLI's text arguments and options refuse control characters with a usage error
(exit 2) before the command runs; its integers have the API's ranges."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from twostep.interfaces.cli.common import TEXT
from twostep.interfaces.cli.main import cli


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # Nothing is wired for a refused argument; a home of its own all the same.
    monkeypatch.setenv("TWOSTEP_HOME", str(tmp_path))
    return CliRunner()


def commands(group: click.Group) -> list[click.Command]:
    found: list[click.Command] = []
    for command in group.commands.values():
        found.append(command)
        if isinstance(command, click.Group):
            found += commands(command)
    return found


def test_every_plain_text_parameter_has_the_text_type() -> None:
    plain = [
        f"{command.name} {param.name}"
        for command in commands(cli)
        for param in command.params
        if param.type is click.STRING
    ]
    assert plain == []
    users_add = cli.commands["users"].commands["add"]  # type: ignore[attr-defined]
    assert {p.name: p.type for p in users_add.params}["first_name"] is TEXT


@pytest.mark.parametrize(
    "args",
    [
        ["users", "add", "a\x00b"],
        ["users", "add", "bob", "--first-name", "B\x1b[31mob"],
        ["users", "show", "al\u0085ice"],
        ["tenants", "add", "acme\n"],
        ["keys", "create", "--role", "tenant_admin", "--tenant", "de\tfault"],
        ["audit", "--user", "a\x7f"],
        ["gateways", "add", "dev", "outbox", "--settings", "{}", "--tenant", "x\x00"],
        ["methods", "add", "alice", "oath_token", "--label", "l\ud800"],
    ],
)
def test_a_control_character_is_a_usage_error(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "control characters are not accepted" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "args",
    [
        ["methods", "add", "alice", "oath_token", "--counter", str(2**63)],
        ["methods", "add", "alice", "oath_token", "--counter", "-1"],
        ["users", "list", "--limit", str(10**20)],
        ["gateways", "add", "dev", "outbox", "--settings", "{}", "--position", str(2**63)],
        ["serve", "--port", "70000"],
    ],
)
def test_integers_out_of_range_are_usage_errors(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "is not in the range" in result.output
