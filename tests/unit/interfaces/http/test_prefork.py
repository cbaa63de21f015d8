"""The pre-fork supervisor's memory: what it loads before forking, and what it never loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from twostep.config import Config
from twostep.interfaces.cli.common import migrated
from twostep.interfaces.http import prefork

# A worker as it starts, in a fresh interpreter: the supervisor's loading (serve's first
# start in a child, then the preload), then what uvicorn does in the worker (its settings loaded,
# which builds the app; the event loop chosen; the lifespan started and stopped).
_WORKER_START = """
import asyncio, json, sys
from twostep.config import Config
from twostep.interfaces.cli import main  # what `twostep serve` has loaded
from twostep.interfaces.cli.common import migrated
from twostep.interfaces.http import prefork

config = Config.from_env()
assert prefork.apart(lambda: migrated(config).close() or "") == ""  # as serve does
prefork._preload(config, access_log=False)
before = set(sys.modules)
settings = prefork._settings(config, False, lambda: prefork.create_app(config=config))
settings.load()
from uvicorn.lifespan.on import LifespanOn

async def start_and_stop() -> None:
    lifespan = LifespanOn(settings)
    await lifespan.startup()
    await lifespan.shutdown()

with asyncio.Runner(loop_factory=settings.get_loop_factory()) as runner:
    runner.run(start_and_stop())
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_a_starting_worker_imports_nothing_the_supervisor_has_not_loaded(tmp_path: Path) -> None:
    """Every module a worker imports after the fork is a private copy in each worker;
    imported before it, one copy is shared by all (the preload's purpose). uvicorn's
    WebSocket support (no route is a WebSocket) is not loaded at all."""
    env = {**os.environ, "TWOSTEP_HOME": str(tmp_path / "data")}
    env.pop("TWOSTEP_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _WORKER_START],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [], done.stdout


def test_the_supervisor_loads_no_ldap_library_and_no_orm() -> None:
    """ldap3 (about 5 MiB) loads at a directory's first connection or bind, in the worker
    that makes it: a deployment without a directory never holds it. SQLAlchemy's ORM
    (41 modules, about 5 MiB of the tree) is never loaded: the storage is Core only."""
    script = (
        "import sys\n"
        "from twostep.interfaces.cli import main\n"
        "from twostep.interfaces.http import prefork\n"
        "from twostep.interfaces.http.app import create_app\n"
        "print(sorted(m for m in sys.modules\n"
        "    if m.split('.')[0] in ('ldap3', 'pyasn1') or m.startswith('sqlalchemy.orm')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def _config(home: Path, **settings: str) -> Config:
    config = Config.from_env({"TWOSTEP_HOME": str(home), **settings})
    assert prefork.apart(lambda: migrated(config).close() or "") == ""  # as serve does
    return config


def test_the_app_is_built_before_the_fork_without_a_database_connection(tmp_path: Path) -> None:
    built = prefork._built(_config(tmp_path / "data"))
    assert built is not None
    pool = built.state.twostep.storage.engine.pool
    try:
        assert (pool.checkedin(), pool.checkedout()) == (0, 0)  # nothing to cross the fork
    finally:
        built.state.twostep.close()


def test_with_a_metrics_token_each_worker_builds_its_own_app(tmp_path: Path) -> None:
    config = _config(tmp_path / "data", TWOSTEP_METRICS_TOKEN="m" * 32)
    assert prefork._built(config) is None


@pytest.mark.parametrize("scheduler", [True, False])
def test_a_worker_takes_the_built_app_and_is_told_whether_it_runs_the_schedule(
    tmp_path: Path, scheduler: bool
) -> None:
    config = _config(tmp_path / "data")
    built = prefork._built(config)
    assert built is not None
    try:
        server = prefork._uvicorn(config, False, scheduler, built)
        server.config.load()  # calls the factory, as the worker's uvicorn does
        assert server.config.loaded_app is not None
        assert server.apps == [built]
        assert built.state.scheduler is scheduler
    finally:
        built.state.twostep.close()


def test_apart_returns_what_the_work_returned_in_a_child_process() -> None:
    def work() -> str:
        os.environ["TWOSTEP_TEST_APART"] = "set in the child"  # not in this process
        return f"done in {os.getpid()}"

    done = prefork.apart(work)
    assert done is not None and done.startswith("done in ")
    assert done != f"done in {os.getpid()}"
    assert "TWOSTEP_TEST_APART" not in os.environ


def test_apart_returns_an_empty_answer_as_such() -> None:
    assert prefork.apart(lambda: "") == ""


@pytest.mark.parametrize("failure", [ValueError("no"), SystemExit(0), KeyboardInterrupt()])
def test_apart_returns_none_when_the_work_failed_in_the_child(failure: BaseException) -> None:
    def work() -> str:
        raise failure

    assert prefork.apart(work) is None
