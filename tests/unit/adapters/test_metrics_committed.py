"""What the storage tells the metrics once a transaction commits: a push sign-in, a fraud
report after its approval (a fraud report, one lock), the report resent (neither again),
on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import builders
from tests.support.devices import FakeDevice
from tests.support.fakes import FakeClock
from tests.support.metrics import Scrape, parse
from twostep.adapters.metrics import PrometheusMetrics
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.audit import AuditEvent
from twostep.domain.entities import Device
from twostep.domain.results import Result
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def counted(config: Config, clock: FakeClock) -> Iterator[App]:
    wired = build(config, clock=clock, metrics=PrometheusMetrics())
    wired.admin.ensure_default_tenant()
    yield wired
    wired.close()


def _device(app: App, phone: FakeDevice) -> Device:
    with app.storage.transaction() as tx:
        found = tx.devices.by_id(phone.id)
    assert found is not None
    return found


def _scrape(app: App) -> Scrape:
    assert app.metrics is not None
    return parse(app.metrics.render()[0].decode())


def test_a_fraud_report_after_an_approval_counts_once_with_its_lock(counted: App) -> None:
    vpn = builders.integration(counted)[0]
    builders.user(counted, "alice")
    phone = FakeDevice.new().activate(counted)
    started = counted.signin.sign_in(SignInRequest(user="alice", integration=vpn))
    assert started.result is Result.CHALLENGE
    [request] = counted.push.requests(_device(counted, phone))
    tx = request.transaction_id
    approve = phone.answer(tx, "approve", started.number, request.nonce)
    fraud = phone.answer(tx, "fraud", None, request.nonce)
    me = _device(counted, phone)
    counted.push.answer(me, tx, "approve", started.number, request.nonce, approve)
    counted.push.answer(me, tx, "fraud", None, request.nonce, fraud)
    counted.push.answer(me, tx, "fraud", None, request.nonce, fraud)  # resent: a replay

    scrape = _scrape(counted)
    assert scrape.value("twostep_fraud_reports_total") == 1
    assert scrape.value("twostep_lockouts_total", cause="fraud") == 1
    assert scrape.value("twostep_lockouts_total") == 1
    validations = "twostep_validations_total"
    assert scrape.value(validations, method="app_push", result="challenge") == 1
    assert scrape.value(validations, method="app_push", result="accept") == 1
    assert scrape.value(validations, method="app_push", reason="fraud_reported") == 1
    assert scrape.value(validations, method="app_push", reason="code_replayed") == 1
    assert scrape.value(validations) == 4


def test_a_transaction_that_fails_counts_nothing(counted: App) -> None:
    """Counted when committed: a unit of work that raises wrote no event, so none counts."""
    event = AuditEvent(
        event_id="e1",
        at=0.0,
        tenant="default",
        user="alice",
        method="app_code",
        result="accept",
        reason=None,
        integration=None,
        server_name="node-a",
        server_ip=None,
    )
    tenant = counted.admin.ensure_default_tenant()
    with pytest.raises(RuntimeError), counted.storage.transaction(write=True) as tx:
        tx.audit.add(tenant.id, event)
        raise RuntimeError("the request failed before commit")
    assert _scrape(counted).value("twostep_validations_total") == 0
    with counted.storage.transaction(write=True) as tx:
        tx.audit.add(tenant.id, event)
    assert _scrape(counted).value("twostep_validations_total", result="accept") == 1
