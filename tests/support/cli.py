"""Run the `twostep` command as a person would, against one TWOSTEP_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def twostep(home: Path, *args: str, ok: bool = True) -> str:
    """Its stdout and stderr together; asserts the exit status (0 when ``ok``, else not 0)."""
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
