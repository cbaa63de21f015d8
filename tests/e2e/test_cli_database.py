"""Only `twostep db upgrade` and `serve` migrate; every other command checks the schema and
says what to run. Settings come from flags, the environment and a TOML file, reach the
server's workers unchanged, and a wrong one is one line at start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from tests.support.cli import twostep
from tests.support.postgres import free_port
from tests.support.servers import _wait_healthy
from twostep.adapters.storage import migrate
from twostep.adapters.storage.engine import make_engine

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "twostep.interfaces.cli.main"]


def clean_env(**variables: str) -> dict[str, str]:
    """This process's environment without its TWOSTEP_* variables, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOSTEP_")}
    return {**env, **variables}


def set_revision(home: Path, revision: str) -> None:
    engine = make_engine(f"sqlite:///{home / 'twostep.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def revision(home: Path) -> str | None:
    engine = make_engine(f"sqlite:///{home / 'twostep.db'}")
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def test_a_command_on_a_new_home_creates_nothing_and_says_to_upgrade(tmp_path: Path) -> None:
    home = tmp_path / "data"
    out = twostep(home, "users", "add", "alice", ok=False)
    assert out == (
        f"Error: no database at {home / 'twostep.db'} yet: create it with `twostep db upgrade` "
        "(`twostep serve` does too)\n"
    )
    assert not home.exists()
    assert "database at revision" in twostep(home, "db", "upgrade")
    assert "user alice created" in twostep(home, "users", "add", "alice")


def test_an_older_schema_is_left_alone_until_db_upgrade(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    head = migrate.head_revision()
    assert head is not None
    engine = make_engine(f"sqlite:///{home / 'twostep.db'}")
    before = ScriptDirectory(str(migrate.MIGRATIONS)).get_revision(head).down_revision
    assert isinstance(before, str)
    migrate.downgrade(engine, before)
    engine.dispose()

    out = twostep(home, "users", "list", ok=False)
    assert out == (
        f"Error: the database is at revision {before}, and this version needs {head}: "
        "run `twostep db upgrade`\n"
    )
    assert revision(home) == before  # the command did not migrate
    assert f"database at revision {head}" in twostep(home, "db", "upgrade")
    assert "(none)" in twostep(home, "users", "list")


def test_a_newer_versions_schema_is_not_touched(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    set_revision(home, "9999_from_the_future")
    out = twostep(home, "tenants", "list", ok=False)
    assert "is at revision 9999_from_the_future, which this version of Twostep does not know" in out
    assert "Traceback" not in out


def test_db_upgrade_run_on_several_nodes_at_once_migrates_once(tmp_path: Path) -> None:
    env = clean_env(TWOSTEP_HOME=str(tmp_path / "data"))
    nodes = [
        subprocess.Popen([*CLI, "db", "upgrade"], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [node.communicate(timeout=120)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0, 0], outputs
    assert all(f"database at revision {migrate.head_revision()}" in o for o in outputs)


@pytest.mark.parametrize(
    ("variables", "args", "line"),
    [
        (
            {"TWOSTEP_RADIUS": "maybe"},
            ["users", "list"],
            'Error: [invalid_setting] TWOSTEP_RADIUS: must be on or off, not "maybe"',
        ),
        (
            {"TWOSTEP_PORT": "http"},
            ["serve"],
            'Error: [invalid_setting] TWOSTEP_PORT: must be an integer 1-65535, not "http"',
        ),
        (
            {"TWOSTEP_RADIUS_PROT": "1813"},
            ["db", "upgrade"],
            "Error: [invalid_setting] TWOSTEP_RADIUS_PROT: not a Twostep setting "
            "(did you mean TWOSTEP_RADIUS_PORT?)",
        ),
    ],
)
def test_a_wrong_setting_stops_a_command_with_one_line(
    tmp_path: Path, variables: dict[str, str], args: list[str], line: str
) -> None:
    home = tmp_path / "data"
    env = clean_env(TWOSTEP_HOME=str(home), **variables)
    done = subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, "", line + "\n")
    assert not home.exists()


def test_a_wrong_key_in_the_file_stops_a_command_with_one_line(tmp_path: Path) -> None:
    file = tmp_path / "twostep.toml"
    file.write_text('[storage]\nhome = "data"\n[radius]\nenabld = true\n')
    env = clean_env()
    done = subprocess.run(
        [*CLI, "--config", str(file), "users", "list"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: [invalid_setting] radius.enabld (in {file}): not a setting; "
        "[radius] takes enabled, host, port\n"
    )


def test_serve_and_its_workers_run_with_the_settings_file(tmp_path: Path) -> None:
    home, port = tmp_path / "data", free_port()
    public_url = "https://mfa.example.test"
    file = tmp_path / "twostep.toml"
    file.write_text(
        f'[storage]\nhome = "{home}"\n[server]\nport = {port}\npublic_url = "{public_url}/"\n'
    )
    env = clean_env()
    config = ["--config", str(file)]
    outbox = json.dumps({"path": str(home / "outbox.jsonl")})
    for args in (["db", "upgrade"], ["gateways", "add", "dev", "outbox", "--settings", outbox]):
        subprocess.run([*CLI, *config, *args], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [*CLI, *config, "keys", "create", "--role", "global_admin"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = made.stdout.strip().splitlines()[-1]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*CLI, *config, "serve", "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        # Each answer comes from either worker: both build the gateway's URLs from the file.
        for _ in range(10):
            with httpx.Client() as client:  # a new connection each time
                answer = client.get(
                    f"{url}/v1/tenants/default/gateways",
                    headers={"Authorization": f"Bearer {key}"},
                )
            assert answer.status_code == 200, answer.text
            assert answer.json()[0]["inbound_url"].startswith(f"{public_url}/v1/gateways/")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert f"Data under {home}" in log.read_text()


def test_tokens_list_pages_through_every_token(tmp_path: Path) -> None:
    home = tmp_path / "data"
    twostep(home, "db", "upgrade")
    csv = tmp_path / "tokens.csv"
    csv.write_text("".join(f"TK{i:04d},JBSWY3DPEHPK3PXP,30\n" for i in range(250)))
    assert "imported 250" in twostep(home, "tokens", "import", str(csv))

    first = twostep(home, "tokens", "list", "--limit", "100")
    assert first.count("\nTK") == 100 and "TK0099" in first and "TK0100" not in first
    assert "(the first 100 tokens: --all lists every one)" in first
    every = twostep(home, "tokens", "list", "--all", "--limit", "100")
    assert every.count("\nTK") == 250 and "TK0249" in every and "--all" not in every
    exact = twostep(home, "tokens", "list", "--all", "--limit", "125")
    assert exact.count("\nTK") == 250
