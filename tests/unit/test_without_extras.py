"""A server installed without the provider extras (postgres, twilio, webpush) starts, and
names the extra to install only when that provider is asked for.

Run in a fresh interpreter where the extras' libraries cannot be imported (``None`` in
``sys.modules`` is what Python does for a module it must not import: ``import twilio``
raises ModuleNotFoundError), so nothing this test session imported hides a top-level
import of one of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROVIDER_LIBRARIES = ("psycopg", "psycopg_binary", "twilio", "pywebpush", "py_vapid", "http_ece")

SCRIPT = """
import json, sys
for name in json.loads(sys.argv[1]):
    sys.modules[name] = None

import os
from click.testing import CliRunner
from fastapi.testclient import TestClient

from twostep.adapters.storage import migrate
from twostep.adapters.storage.engine import make_engine
from twostep.interfaces.cli.main import cli
from twostep.interfaces.http.app import create_app

migrate.upgrade(make_engine(os.environ["TWOSTEP_DATABASE_URL"]))
runner = CliRunner()
out = {}
twilio = {"account_sid": "AC" + "0" * 32, "auth_token": "x" * 32, "from_number": "+15005550006"}
added = runner.invoke(cli, ["gateways", "add", "sms", "twilio", "--settings", json.dumps(twilio)])
out["twilio"] = [added.exit_code, added.output]
listed = runner.invoke(cli, ["gateways", "list"])
out["list"] = [listed.exit_code, listed.output]
with TestClient(create_app()) as client:
    out["health"] = client.get("/health").status_code
    out["push"] = client.get("/v1/devices/push-config").json()
postgres = runner.invoke(
    cli, ["tenants", "list"], env={"TWOSTEP_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/db"}
)
out["postgres"] = [postgres.exit_code, postgres.output]
out["loaded"] = sorted(n for n in json.loads(sys.argv[1]) if sys.modules.get(n) is not None)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What a server without the extras answered (one interpreter for every test here)."""
    home = tmp_path_factory.mktemp("without-extras") / "home"
    home.mkdir()
    env = {
        **os.environ,
        "TWOSTEP_HOME": str(home),
        "TWOSTEP_DATABASE_URL": f"sqlite:///{home / 'twostep.db'}",
    }
    env.pop("TWOSTEP_SECRET_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(PROVIDER_LIBRARIES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    out["home"] = str(home)
    return out


def test_the_server_starts_and_imports_no_provider_library(seen: dict[str, Any]) -> None:
    assert seen["health"] == 200
    assert seen["list"][0] == 0
    assert seen["loaded"] == []


def test_without_webpush_the_server_offers_no_webpush_kind(seen: dict[str, Any]) -> None:
    assert "webpush" not in seen["push"]["push_kinds"]
    assert seen["push"]["vapid_public_key"] is None
    assert not (Path(seen["home"]) / "vapid.pem").exists()


def test_a_postgresql_url_without_its_driver_names_the_extra(seen: dict[str, Any]) -> None:
    code, text = seen["postgres"]
    assert code == 1
    assert "[invalid_setting]" in text
    assert "'psycopg'" in text
    assert "pip install 'twostep[postgres]'" in text
    assert "Traceback" not in text


def test_a_twilio_gateway_without_its_library_names_the_extra(seen: dict[str, Any]) -> None:
    code, text = seen["twilio"]
    assert code == 1
    assert "[invalid_setting] gateway kind 'twilio' needs the twilio extra" in text
    assert "pip install 'twostep[twilio]'" in text
    assert "Traceback" not in text
