"""Run the `twostep` command against one TWOSTEP_HOME: in this process through click's test
runner (the command's code, arguments, output and exit status as a person's shell sees
them, without paying for a new interpreter and its imports on every call), or as a real
process (``twostep_process``) where the process itself is under test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner


def twostep(home: Path, *args: str, ok: bool = True) -> str:
    """Its stdout and stderr together; asserts the exit status (0 when ``ok``, else not 0).
    An exception the command lets escape fails the test (a person would see a traceback)."""
    from twostep.interfaces.cli.main import cli

    result = CliRunner().invoke(
        cli, list(args), env={"TWOSTEP_HOME": str(home)}, prog_name="twostep"
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def twostep_process(home: Path, *args: str, ok: bool = True) -> str:
    """As ``twostep``, in a new process (``python -m twostep.interfaces.cli.main``)."""
    result = subprocess.run(
        [sys.executable, "-m", "twostep.interfaces.cli.main", *args],
        env={**os.environ, "TWOSTEP_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode == 0) == ok, result.stdout + result.stderr
    return result.stdout + result.stderr
