"""Fixtures: a private accounts directory, the fake device API on loopback, the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.unit.authenticator.fake_server import FakeServer, running
from twostep.authenticator.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the accounts file goes: never the real ~/.config."""
    path = tmp_path / "authenticator"
    monkeypatch.setenv("TWOSTEP_AUTHENTICATOR_HOME", str(path))
    return path


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with running(FakeServer()) as server:
        yield server


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, obj: Any = None) -> Result:
        return self.runner.invoke(main, list(args), input=input, obj=obj)

    def ok(self, *args: str, input: str | None = None, obj: Any = None) -> Result:
        result = self(*args, input=input, obj=obj)
        assert result.exit_code == 0, (result.output, result.exception)
        return result


@pytest.fixture
def cli(home: Path) -> Cli:
    return Cli()


@pytest.fixture
def activated(cli: Cli, fake: FakeServer) -> str:
    """One account activated on the fake server; its device id."""
    fake.add_code("K7PQ-9ZRM-2XTV-HW4N")
    cli.ok("activate", f"{fake.url}/v1/devices/activate", "k7pq-9zrm-2xtv-hw4n", "--name", "t")
    return fake.only_device().device_id
