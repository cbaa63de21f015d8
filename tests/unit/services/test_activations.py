"""Activation credentials: exchanged once, even when many exchanges race; a replacement
revokes the tenant's devices but leaves its users and their other methods."""

from __future__ import annotations

import threading

import pytest

from tests.support import builders
from tests.support.devices import FakeDevice
from twostep.bootstrap import App
from twostep.domain.billing import BillingModel
from twostep.domain.entities import DeviceState
from twostep.domain.errors import IntegrationActivationInvalid
from twostep.services import credentials
from twostep.services.admin import OPERATOR
from twostep.services.providers import PROVIDER_REPLACED

pytestmark = pytest.mark.usefixtures("backend")


def test_of_many_exchanges_at_once_exactly_one_gets_a_key(app: App) -> None:
    builders.integration(app)
    app.providers.create(OPERATOR, "msp", BillingModel.PER_USER, "default")
    made = app.activations.generate(OPERATOR, "default", "vpn")
    start = threading.Barrier(6)
    keys: list[str] = []
    refused: list[str] = []

    def exchange() -> None:
        start.wait(timeout=30)
        try:
            keys.append(app.activations.exchange(made.code, made.password).key)
        except IntegrationActivationInvalid as exc:
            refused.append(exc.code)

    threads = [threading.Thread(target=exchange) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(keys) == 1 and len(refused) == 5
    with app.storage.transaction() as tx:
        found = credentials.find_integration(tx, keys[0])
    assert found is not None and found.name == "vpn"


def test_a_replacement_revokes_devices_and_keeps_users_and_their_other_methods(
    app: App,
) -> None:
    enrolled = builders.enrolled_user(app)  # app_code entered by hand: not a device's
    device = FakeDevice.new().activate(app)
    first = app.providers.create(OPERATOR, "old", BillingModel.PER_USER, "default")
    app.providers.delete(OPERATOR, first.id)
    app.providers.create(OPERATOR, "new", BillingModel.PER_AUTHENTICATION, "default")
    tenant = app.admin.ensure_default_tenant()
    with app.storage.transaction() as tx:
        revoked = tx.devices.by_id(device.id)
        user = tx.users.by_name(tenant.id, "alice")
        assert user is not None
        kinds = [m.kind.value for m in tx.methods.for_user(user.id)]
    assert revoked is not None and revoked.state is DeviceState.REVOKED
    assert revoked.revoked_reason == PROVIDER_REPLACED
    assert kinds == [enrolled.method.kind.value]  # the device's app_push went, app_code stayed
    events = [e for e in app.admin_events.query(OPERATOR, None) if e.action == "provider.create"]
    assert events[-1].changes["devices_revoked"] == [None, 1]
    assert events[-1].changes["integrations_pending"] == [None, 0]
