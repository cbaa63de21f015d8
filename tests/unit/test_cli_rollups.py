"""`twostep audit rollup` brings the usage rollups up to date by hand, `--rebuild`
recounts them from the raw events; `twostep audit` still lists the log."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from tests.support.fakes import FakeClock
from tests.support.usage import Written, write
from twostep.adapters.storage import tables
from twostep.bootstrap import App
from twostep.config import Config

pytestmark = pytest.mark.usefixtures("backend")


def twostep(config: Config, *args: str) -> str:
    env = {
        **os.environ,
        "TWOSTEP_HOME": str(config.storage.home),
        "TWOSTEP_DATABASE_URL": config.storage.database_url,
        "TWOSTEP_SECRET_KEY": config.storage.secret_key.get_secret_value()
        if config.storage.secret_key
        else "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "twostep.interfaces.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def rolled_up(app: App) -> int:
    with app.storage.transaction() as tx:
        total = select(func.coalesce(func.sum(tables.audit_rollups.c.events), 0))
        return int(tx.conn.execute(total).scalar_one())


def test_rollup_and_rebuild_from_the_shell(app: App, config: Config, clock: FakeClock) -> None:
    default = app.admin.ensure_default_tenant()
    write(app.storage, [Written(default.id, "default", clock.now() - i) for i in range(7)])
    assert "7 event(s) rolled up in 1 round(s)" in twostep(config, "audit", "rollup")
    assert rolled_up(app) == 7
    assert "0 event(s) rolled up" in twostep(config, "audit", "rollup")

    with app.storage.transaction(write=True) as tx:
        tx.conn.execute(tables.audit_rollups.delete())
    assert "rollups rebuilt up to audit event" in twostep(config, "audit", "rollup", "--rebuild")
    assert rolled_up(app) == 7
    assert "alice" in twostep(config, "audit", "--limit", "1")
