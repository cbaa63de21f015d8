"""contrib/: the hardened systemd unit passes ``systemd-analyze verify`` and its security
review, and stops within a graceful shutdown; the Containerfile runs the installed server as
a non-root user with its state in a volume, its settings real ones, its health on /readyz."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import missing
from twostep.config import Config
from twostep.interfaces.http.keeper import KILL_AFTER

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "contrib" / "systemd" / "twostep.service"
CONTAINERFILE = ROOT / "contrib" / "Containerfile"


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_is_hardened() -> None:
    unit = directives(UNIT.read_text(encoding="utf-8"))
    assert unit["User"] == ["twostep"]
    assert unit["StateDirectory"] == ["twostep"]
    assert unit["ConfigurationDirectory"] == ["twostep"]
    assert unit["Environment"] == ["TWOSTEP_HOME=/var/lib/twostep"]
    for flag in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices"):
        assert unit[flag] == ["yes"], flag
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["CapabilityBoundingSet"] == [""]  # RADIUS on 1812 needs no capability
    assert unit["AmbientCapabilities"] == [""]
    assert unit["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert "@system-service" in unit["SystemCallFilter"]
    assert unit["EnvironmentFile"] == ["-/etc/twostep/twostep.env"]
    assert unit["KillSignal"] == ["SIGTERM"]
    command = shlex.split(unit["ExecStart"][0])
    assert command[0].endswith("/bin/twostep") and command[1] == "serve"


def test_the_unit_waits_for_a_graceful_shutdown() -> None:
    unit = directives(UNIT.read_text(encoding="utf-8"))
    shutdown = Config.from_env({"TWOSTEP_HOME": "/var/lib/twostep"}).server.shutdown_timeout
    assert int(unit["TimeoutStopSec"][0]) > shutdown + KILL_AFTER


def installed_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart naming this venv's ``twostep``: verify checks it exists."""
    script = Path(sys.executable).parent / "twostep"
    text = re.sub(
        r"^ExecStart=\S+", f"ExecStart={script}", UNIT.read_text(encoding="utf-8"), flags=re.M
    )
    copy = tmp_path / "twostep.service"
    copy.write_text(text, encoding="utf-8")
    return copy


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        missing("systemd-analyze (Debian: systemd)")
        raise AssertionError  # missing() skips or fails
    return found


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    done = subprocess.run(
        [systemd_analyze(), "verify", str(installed_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip() == "", done.stderr  # not even a warning


def test_systemd_rates_the_unit_well_exposed_below_2(tmp_path: Path) -> None:
    unit = str(installed_copy(tmp_path))
    done = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", "--threshold=20", "--no-pager", unit],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    level = re.search(r"Overall exposure level for twostep.service: (\d+\.\d)", done.stdout)
    assert level is not None and float(level.group(1)) < 2.0, done.stdout[-300:]


def containerfile() -> list[str]:
    """The final stage's instructions, continuation lines joined."""
    text = CONTAINERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("#")]
    last_from = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return lines[last_from:]


def instruction(lines: list[str], name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in lines if line.split(None, 1)[0] == name]


def test_the_container_runs_the_server_as_a_user_with_state_in_a_volume() -> None:
    lines = containerfile()
    assert instruction(lines, "USER") == ["twostep:twostep"]
    assert instruction(lines, "VOLUME") == ['["/var/lib/twostep"]']
    assert instruction(lines, "EXPOSE") == ["8080/tcp 1812/udp"]
    assert instruction(lines, "ENTRYPOINT") == ['["twostep"]']
    assert instruction(lines, "CMD") == ['["serve"]']
    assert instruction(lines, "STOPSIGNAL") == ["SIGTERM"]
    (health,) = instruction(lines, "HEALTHCHECK")
    assert "http://127.0.0.1:8080/readyz" in health


def test_the_containers_settings_are_real_and_match_what_it_exposes() -> None:
    (env_line,) = instruction(containerfile(), "ENV")
    env = dict(pair.split("=", 1) for pair in shlex.split(env_line))
    settings = {k: v for k, v in env.items() if k.startswith("TWOSTEP_")}
    config = Config.from_env(settings)  # an unknown or misspelt variable is refused
    assert str(config.storage.home) == "/var/lib/twostep"
    assert (config.server.host, config.server.port) == ("0.0.0.0", 8080)  # noqa: S104
    assert config.radius.port == 1812
