"""Scheduled syncs: two nodes over one database (two apps, two engines, two schedulers) never
sync one directory at once, and a due directory is synced once per interval by one of
them; the scheduler thread syncs what is due and stops when the server stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.directories import FakeDirectory, entry
from tests.support.fakes import FakeClock
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.admin_events import AdminEventQuery
from twostep.services.admin import OPERATOR
from twostep.services.directories import DirectoryAdmin
from twostep.services.directory_scheduler import DirectoryScheduler
from twostep.services.directory_sync import DirectorySync, SyncReport, SyncStopped

pytestmark = pytest.mark.usefixtures("backend")

SETTINGS = {"urls": ["ldap://127.0.0.1"], "bind_dn": "cn=reader", "base_dn": "dc=example"}


@pytest.fixture
def ldap() -> FakeDirectory:
    directory = FakeDirectory(delay=0.002)  # a sync takes a while: long enough to overlap
    directory.put(*(entry(f"user{i}@example.com") for i in range(60)))
    return directory


@pytest.fixture
def node_b(config: Config, clock: FakeClock) -> Iterator[App]:
    server = config.server.model_copy(update={"node_name": "node-b"})
    other = build(config.model_copy(update={"server": server}), clock=clock)
    yield other
    other.close()


def schedulers(apps: list[App], ldap: FakeDirectory) -> list[DirectoryScheduler]:
    return [DirectoryScheduler(DirectorySync(a.deps, ldap, batch=10)) for a in apps]


def run_together(nodes: list[DirectoryScheduler]) -> list[SyncReport]:
    start = threading.Barrier(len(nodes))
    reports: list[SyncReport] = []

    def run(node: DirectoryScheduler) -> None:
        start.wait(timeout=10)
        reports.extend(node.run_due())

    threads = [threading.Thread(target=run, args=(n,)) for n in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return reports


def test_two_nodes_sync_a_due_directory_once_and_never_at_once(
    app: App, node_b: App, ldap: FakeDirectory, clock: FakeClock
) -> None:
    DirectoryAdmin(app.deps, ldap).add(
        OPERATOR, "default", "corp", {**SETTINGS, "sync_interval": 600}
    )
    DirectoryAdmin(app.deps, ldap).add(
        OPERATOR, "default", "manual", SETTINGS | {"sync_interval": 0}
    )
    nodes = schedulers([app, node_b], ldap)
    [first] = run_together(nodes)
    assert first.directory == "corp" and first.counts.created == 60
    assert ldap.most_open == 1 and ldap.connections == 1
    assert run_together(nodes) == []  # not due again yet
    clock.advance(601)
    [second] = run_together(nodes)
    assert second.full is False and second.counts.seen == 0
    assert ldap.most_open == 1 and ldap.connections == 2
    tenant = app.admin.get_tenant(OPERATOR, "default")
    with app.storage.transaction() as tx:
        events = tx.admin_events.query(AdminEventQuery(tenant.id, action="directory.sync"))
    assert [(e.actor, e.interface, e.target) for e in events] == [("scheduler", "sync", "corp")] * 2


def test_the_scheduler_thread_syncs_what_is_due_and_stops(app: App, ldap: FakeDirectory) -> None:
    directories = DirectoryAdmin(app.deps, ldap)
    directories.add(OPERATOR, "default", "corp", {**SETTINGS, "sync_interval": 60})
    scheduler = DirectoryScheduler(DirectorySync(app.deps, ldap), every=0.05, first=0.01)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while directories.get(OPERATOR, "default", "corp").directory.synced_at is None:
            assert time.monotonic() < deadline, "the due directory was not synced"
            time.sleep(0.02)
    finally:
        started = time.monotonic()
        scheduler.stop()
    assert time.monotonic() - started < 2
    assert len(app.admin.list_users(OPERATOR, "default")) == 60


def test_a_server_that_stops_ends_a_scheduled_sync_between_batches(
    app: App, ldap: FakeDirectory
) -> None:
    directories = DirectoryAdmin(app.deps, ldap)
    directories.add(OPERATOR, "default", "corp", {**SETTINGS, "sync_interval": 60})
    scheduler = DirectoryScheduler(DirectorySync(app.deps, ldap, batch=5))
    scheduler._stop.set()  # stop() came while the round was starting
    assert scheduler.run_due() == []
    stopping = iter([False, False, True])
    sync = DirectorySync(app.deps, ldap, batch=5)
    directory_id = directories.get(OPERATOR, "default", "corp").directory.id
    with pytest.raises(SyncStopped):
        sync.scheduled(directory_id, stopping=lambda: next(stopping, True))
    view = directories.get(OPERATOR, "default", "corp")
    assert view.sync_state == "interrupted" and view.directory.synced_at is None
    assert sync.scheduled(directory_id) is None  # tried again after a while, not at once
