"""Integrations that hold no key (a RADIUS client, a hosted sign-in's application) are held
back by a provider replacement too: the sign-in's one read says whether the asking
integration waits to be activated again, and the flow then refuses before anything is
checked; activating a RADIUS client's integration ends that without making an API key."""

from __future__ import annotations

import pytest

from tests.support import builders
from twostep.bootstrap import App
from twostep.domain.billing import BillingModel
from twostep.domain.entities import Integration
from twostep.domain.results import Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.radius_clients import NewRadiusClient
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")


def replace_provider(app: App) -> None:
    first = app.providers.create(OPERATOR, "old", BillingModel.PER_USER, "default")
    app.providers.delete(OPERATOR, first.id)
    app.providers.create(OPERATOR, "new", BillingModel.PER_USER, "default")


def radius_integration(app: App) -> Integration:
    app.radius_clients.create(
        OPERATOR, "default", NewRadiusClient(name="nas", network="127.0.0.1", secret="s" * 24)
    )
    [loaded] = app.radius_clients.load_active()
    return loaded.integration


def pending(app: App, integration_id: int | None) -> bool:
    tenant = app.admin.ensure_default_tenant()
    with app.storage.transaction() as tx:
        subject = tx.subjects.load("alice", tenant_id=tenant.id, integration_id=integration_id)
        by_name = tx.subjects.load("alice", tenant_name="default", integration_id=integration_id)
    assert subject is not None and by_name is not None
    assert subject.user is not None and len(subject.methods) == 1  # the read is whole
    assert by_name.integration_pending == subject.integration_pending
    return subject.integration_pending


def test_the_subject_read_says_whether_the_asking_integration_is_held_back(app: App) -> None:
    builders.enrolled_user(app, "alice")
    nas = radius_integration(app)
    assert not pending(app, nas.id)
    replace_provider(app)
    assert pending(app, nas.id)
    assert not pending(app, None)  # no integration asked about (an API key checked apart)
    assert not pending(app, 0)  # the pages' built-in integration is never stored


def test_a_held_back_client_is_refused_before_anything_is_checked(app: App) -> None:
    alice = builders.enrolled_user(app, "alice")
    nas = radius_integration(app)
    replace_provider(app)
    code = alice.totp(app.deps.clock.now())
    asked = SignInRequest(user="alice", integration=nas, code=code, interface="radius")
    decision = app.signin.sign_in(asked)
    assert (decision.result, decision.reason) == (Result.REJECT, Reason.INTEGRATION_NOT_ACTIVATED)
    assert decision.message is not None and "activated again" in decision.message
    unknown = app.signin.sign_in(SignInRequest(user="mallory", integration=nas, code="1"))
    assert unknown.reason is Reason.INTEGRATION_NOT_ACTIVATED  # the same for any user
    assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 0
    events = app.audit.query(OPERATOR, "default", user="alice")
    assert [(e.result, e.reason, e.integration) for e in events] == [
        ("reject", "integration_not_activated", "nas")
    ]

    pair = app.activations.generate(OPERATOR, "default", "nas")
    assert app.activations.exchange(pair.code, pair.password).key is None
    [loaded] = app.radius_clients.load_active()
    assert loaded.integration.key_id == nas.key_id  # unchanged: never a usable key id
    assert app.signin.sign_in(asked).result is Result.ACCEPT  # the code was never spent


def test_an_api_integration_still_gets_a_new_key(app: App) -> None:
    builders.integration(app, "vpn")
    replace_provider(app)
    pair = app.activations.generate(OPERATOR, "default", "vpn")
    key = app.activations.exchange(pair.code, pair.password).key
    assert key is not None and key.startswith("tsi_")
