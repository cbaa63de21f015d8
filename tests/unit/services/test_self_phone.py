"""A phone a user adds or changes at the self-service portal: pending until the challenge
sent to it (through the tenant's gateways, here the outbox) is answered."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.phones import LANDLINE, MOBILE, OTHER_MOBILE, PREMIUM, code_of, sent_to, signed
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind, MethodStatus, MfaState
from twostep.domain.errors import (
    InvalidInput,
    MethodNotFound,
    NumberNotAllowed,
    TransactionNotFound,
)
from twostep.domain.results import Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.self_phone import PhoneStarted
from twostep.services.self_service import Me

pytestmark = pytest.mark.usefixtures("backend")


def me_of(app: App, name: str = "alice") -> Me:
    user = app.admin.get_user(OPERATOR, "default", name)
    return Me(user.tenant_id, "default", user.id, user.name, "198.51.100.4")


def status_of(app: App, method_id: str, name: str = "alice") -> MethodStatus | None:
    found = [m for m in app.enroll.list(OPERATOR, "default", name) if m.id == method_id]
    return found[0].status if found else None


def start(app: App, number: str = MOBILE, **kw: object) -> PhoneStarted:
    return app.phones.start(me_of(app), MethodKind.SMS, number, **kw)  # type: ignore[arg-type]


class TestAddingANumber:
    def test_the_code_goes_to_the_number_and_confirms_it(self, app: App) -> None:
        builders.user(app, "alice")
        started = start(app)
        tx = started.decision.transaction_id or ""
        assert started.decision.result is Result.CHALLENGE
        assert status_of(app, started.method.id) is MethodStatus.PENDING
        assert sent_to(app, tx)["to"] == MOBILE
        decision = app.phones.confirm(me_of(app), started.method.id, tx, code_of(app, tx))
        assert decision.result is Result.ACCEPT
        assert status_of(app, started.method.id) is MethodStatus.ACTIVE
        user = app.admin.get_user(OPERATOR, "default", "alice")
        assert user.default_method_id == started.method.id and user.mfa is MfaState.ENFORCED

    def test_a_wrong_code_leaves_it_pending(self, app: App) -> None:
        builders.user(app, "alice")
        started = start(app)
        tx = started.decision.transaction_id or ""
        wrong = "000000" if code_of(app, tx) != "000000" else "111111"
        decision = app.phones.confirm(me_of(app), started.method.id, tx, wrong)
        assert (decision.result, decision.reason) == (Result.REJECT, Reason.INVALID_CODE)
        assert status_of(app, started.method.id) is MethodStatus.PENDING

    def test_a_pending_number_signs_nobody_in(self, app: App) -> None:
        builders.user(app, "alice")
        start(app)
        assert app.self_service.info(me_of(app)).reason is not None

    def test_the_text_is_audited_as_the_portals(self, app: App) -> None:
        builders.user(app, "alice")
        started = start(app)
        [event] = app.audit.query(OPERATOR, "default", user="alice")
        assert (event.integration, event.interface, event.result) == ("portal", "web", "challenge")
        assert (event.method, event.detail) == ("sms", "sent by outbox")
        assert started.method.phone == MOBILE

    def test_a_number_the_tenant_does_not_text_is_refused(self, app: App) -> None:
        builders.user(app, "alice")
        with pytest.raises(NumberNotAllowed):
            start(app, PREMIUM)
        with pytest.raises(InvalidInput):
            app.phones.start(me_of(app), MethodKind.APP_CODE, MOBILE)

    def test_resend_sends_a_new_code_and_the_old_one_stops(
        self, app: App, clock: FakeClock
    ) -> None:
        builders.user(app, "alice")
        started = start(app)
        tx = started.decision.transaction_id or ""
        first = code_of(app, tx)
        clock.advance(60)
        assert app.phones.resend(me_of(app), started.method.id, tx).result is Result.CHALLENGE
        second = code_of(app, tx)
        if first != second:
            refused = app.phones.confirm(me_of(app), started.method.id, tx, first)
            assert refused.result is Result.REJECT
        accepted = app.phones.confirm(me_of(app), started.method.id, tx, second)
        assert accepted.result is Result.ACCEPT

    def test_another_users_transaction_is_unknown(self, app: App) -> None:
        builders.user(app, "alice")
        builders.user(app, "bob")
        started = start(app)
        tx = started.decision.transaction_id or ""
        with pytest.raises(TransactionNotFound):
            app.phones.confirm(me_of(app, "bob"), started.method.id, tx, code_of(app, tx))
        with pytest.raises(TransactionNotFound):
            app.phones.confirm(me_of(app), "another-method", tx, code_of(app, tx))

    def test_a_call_confirms_a_landline_when_answered_with_pound(self, app: App) -> None:
        builders.user(app, "alice")
        started = app.phones.start(me_of(app), MethodKind.VOICE, LANDLINE)
        tx = started.decision.transaction_id or ""
        waiting = app.phones.confirm(me_of(app), started.method.id, tx, None)
        assert waiting.result is Result.CHALLENGE
        app.delivered.call_event("outbox", signed(app, {"reference": tx, "digits": ""}))
        assert app.phones.confirm(me_of(app), started.method.id, tx, None).result is Result.ACCEPT
        assert status_of(app, started.method.id) is MethodStatus.ACTIVE


class TestChangingANumber:
    def test_the_new_number_replaces_the_old_and_takes_its_default(self, app: App) -> None:
        builders.user(app, "alice")
        old = app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, MOBILE)
        builders.app_code(app, "alice")  # another method, so the default must move on purpose
        started = start(app, OTHER_MOBILE, replaces=old.id)
        tx = started.decision.transaction_id or ""
        assert sent_to(app, tx)["to"] == OTHER_MOBILE
        # Until the new number is proved, the old one stays.
        assert status_of(app, old.id) is MethodStatus.ACTIVE
        app.phones.confirm(me_of(app), started.method.id, tx, code_of(app, tx), replaces=old.id)
        assert status_of(app, old.id) is None
        user = app.admin.get_user(OPERATOR, "default", "alice")
        assert user.default_method_id == started.method.id

    def test_only_an_active_number_of_the_user_is_replaced(self, app: App) -> None:
        builders.user(app, "alice")
        alice = builders.app_code(app, "alice")
        with pytest.raises(MethodNotFound):
            start(app, OTHER_MOBILE, replaces=alice.method.id)


def test_two_right_answers_at_once_activate_it_once(app: App) -> None:
    builders.user(app, "alice")
    started = start(app)
    tx = started.decision.transaction_id or ""
    code = code_of(app, tx)

    def answer(_: int) -> Result:
        return app.phones.confirm(me_of(app), started.method.id, tx, code).result

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(answer, range(4)))
    assert results.count(Result.ACCEPT) >= 1
    confirms = [
        e
        for e in app.admin_events.query(OPERATOR, "default", limit=1000)
        if e.action == "method.confirm"
    ]
    assert len(confirms) == 1
    assert status_of(app, started.method.id) is MethodStatus.ACTIVE
