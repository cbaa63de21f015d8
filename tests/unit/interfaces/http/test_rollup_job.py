"""The server's process that runs the scheduled work (``scheduler``: one per node) also
runs the usage rollup job every TWOSTEP_ROLLUP_INTERVAL seconds, and stops it with the
server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.support.fakes import FakeClock
from tests.support.usage import Written, write
from twostep.adapters.storage import tables
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.interfaces.http.app import create_app


@pytest.fixture
def quick(config: Config, clock: FakeClock) -> Iterator[App]:
    server = config.server.model_copy(update={"rollup_interval": 0.05})
    wired = build(config.model_copy(update={"server": server}), clock=clock)
    wired.admin.ensure_default_tenant()
    yield wired
    wired.close()


def rolled_up(app: App) -> int:
    with app.storage.transaction() as tx:
        total = select(func.coalesce(func.sum(tables.audit_rollups.c.events), 0))
        return int(tx.conn.execute(total).scalar_one())


def test_the_scheduling_process_rolls_up_the_audit_events(quick: App, clock: FakeClock) -> None:
    tenant = quick.admin.ensure_default_tenant()
    write(quick.storage, [Written(tenant.id, tenant.name, clock.now() - i) for i in range(9)])
    with TestClient(create_app(quick, scheduler=True)):
        for _ in range(3000):  # bounded: about 30 s at most on a loaded machine
            if rolled_up(quick) == 9:
                break
            threading.Event().wait(0.01)
    assert rolled_up(quick) == 9
