"""MFA Server's call and fraud settings: the fraud code, fraud reports on or off, the
block a report sets (90 days, or until unlocked), the administrators emailed, and the PINs
a caller may enter in one call."""

from __future__ import annotations

import logging

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.phones import LANDLINE, outbox, sent_to, signed
from twostep.bootstrap import App
from twostep.domain.entities import Integration, MethodKind
from twostep.domain.results import Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.lockout import FOREVER
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")

DAY = 24 * 3600


@pytest.fixture
def vpn(app: App) -> Integration:
    """alice signs in by phone call, without a PIN."""
    builders.user(app, "alice")
    app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.VOICE, LANDLINE)
    return builders.integration(app)[0]


@pytest.fixture
def pin_vpn(app: App) -> Integration:
    """alice signs in by phone call, with the PIN 2468."""
    builders.user(app, "alice")
    app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.VOICE, LANDLINE, pin="2468")
    return builders.integration(app)[0]


def settings(app: App, **changes: object) -> None:
    app.admin.update_settings(OPERATOR, "default", changes)


def call(app: App, vpn: Integration) -> str:
    """A sign-in by phone call: its transaction id."""
    decision = app.signin.sign_in(
        SignInRequest(user="alice", integration=vpn, client_ip="203.0.113.7")
    )
    assert decision.result is Result.CHALLENGE
    return decision.transaction_id or ""


def press(app: App, tx: str, digits: str) -> str:
    """Keys pressed in the call, then #: what the caller hears back."""
    answer = app.delivered.call_event("outbox", signed(app, {"reference": tx, "digits": digits}))
    assert answer is not None
    return answer.body.decode()


def outcome(app: App, vpn: Integration, tx: str) -> tuple[Result, Reason | None]:
    decision = app.challenges.outcome(vpn, tx)[0]
    return decision.result, decision.reason


def locked_until(app: App) -> float | None:
    return app.admin.get_user(OPERATOR, "default", "alice").locked_until


class TestFraudCode:
    def test_the_call_says_which_key_reports_fraud(self, app: App, vpn: Integration) -> None:
        settings(app, fraud_code="7")
        script = sent_to(app, call(app, vpn))["script"]
        assert "press seven, then pound" in script and "zero" not in script

    def test_the_tenants_fraud_code_reports_fraud(self, app: App, vpn: Integration) -> None:
        settings(app, fraud_code="7")
        tx = call(app, vpn)
        assert "administrator alerted" in press(app, tx, "7")
        assert outcome(app, vpn, tx) == (Result.REJECT, Reason.FRAUD_REPORTED)

    def test_zero_is_no_fraud_report_when_the_code_is_another(
        self, app: App, vpn: Integration
    ) -> None:
        settings(app, fraud_code="7")
        tx = call(app, vpn)
        assert "denied" in press(app, tx, "0")
        assert outcome(app, vpn, tx) == (Result.REJECT, Reason.INVALID_CODE)
        assert locked_until(app) is None


class TestFraudReportsOff:
    def test_the_fraud_code_is_a_plain_denial(self, app: App, vpn: Integration) -> None:
        settings(app, fraud_alert_enabled=False)
        tx = call(app, vpn)
        assert "If this was not you" not in sent_to(app, tx)["script"]
        assert "denied" in press(app, tx, "0")
        assert outcome(app, vpn, tx) == (Result.REJECT, Reason.DENIED)
        assert locked_until(app) is None

    def test_nobody_is_alerted(
        self, app: App, vpn: Integration, caplog: pytest.LogCaptureFixture
    ) -> None:
        settings(app, fraud_alert_enabled=False, fraud_notify_emails=["sec@example.com"])
        app.challenges.mail.run = lambda work: work()  # type: ignore[union-attr]
        with caplog.at_level(logging.WARNING):
            press(app, call(app, vpn), "0")
        assert "ALERT" not in caplog.text
        assert not [r for r in outbox(app) if r["channel"] == "email"]


class TestFraudBlock:
    def test_a_report_blocks_the_user_for_90_days_by_default(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        now = clock.now()
        press(app, call(app, vpn), "0")
        assert locked_until(app) == pytest.approx(now + 90 * DAY)

    def test_the_block_ends_after_fraud_block_seconds(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        settings(app, fraud_block_seconds=DAY)
        press(app, call(app, vpn), "0")
        request = SignInRequest(user="alice", integration=vpn)
        assert app.signin.sign_in(request).reason is Reason.USER_LOCKED
        clock.advance(DAY + 1)
        assert app.signin.sign_in(request).result is Result.CHALLENGE

    def test_zero_blocks_until_an_admin_unlocks(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        settings(app, fraud_block_seconds=0)
        press(app, call(app, vpn), "0")
        clock.advance(366 * DAY)
        request = SignInRequest(user="alice", integration=vpn)
        assert app.signin.sign_in(request).reason is Reason.USER_LOCKED
        app.admin.unlock_user(OPERATOR, "default", "alice")
        assert app.signin.sign_in(request).result is Result.CHALLENGE

    def test_a_block_never_shortens_a_lock_until_unlocked(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        tx = call(app, vpn)
        user = app.admin.get_user(OPERATOR, "default", "alice")
        with app.storage.transaction(write=True) as work:  # locked meanwhile, for good
            work.users.lock(user.id, FOREVER)
        press(app, tx, "0")
        assert locked_until(app) == FOREVER

    def test_no_block_when_fraud_blocks_user_is_off(self, app: App, vpn: Integration) -> None:
        settings(app, fraud_blocks_user=False)
        tx = call(app, vpn)
        press(app, tx, "0")
        assert outcome(app, vpn, tx) == (Result.REJECT, Reason.FRAUD_REPORTED)
        assert locked_until(app) is None


class TestFraudEmails:
    def test_each_administrator_is_emailed_through_the_tenants_gateway(
        self, app: App, vpn: Integration
    ) -> None:
        settings(app, fraud_notify_emails=["sec@example.com", "it@example.org"])
        app.challenges.mail.run = lambda work: work()  # type: ignore[union-attr]
        tx = call(app, vpn)
        press(app, tx, "0")
        emails = [r for r in outbox(app) if r["channel"] == "email"]
        assert sorted(e["to"] for e in emails) == ["it@example.org", "sec@example.com"]
        email = emails[0]
        assert email["subject"] == "Twostep: fraud reported by alice (default)"
        assert "User alice of tenant default reported a sign-in as fraud" in email["body"]
        assert f"Transaction: {tx}" in email["body"]
        assert "Client address: 203.0.113.7" in email["body"]
        assert "locked until" in email["body"]

    def test_a_report_after_approval_is_emailed_too(self, app: App, vpn: Integration) -> None:
        settings(app, fraud_notify_emails=["sec@example.com"])
        app.challenges.mail.run = lambda work: work()  # type: ignore[union-attr]
        tx = call(app, vpn)
        press(app, tx, "")
        press(app, tx, "0")
        (email,) = [r for r in outbox(app) if r["channel"] == "email"]
        assert "as fraud in a phone call after approval" in email["body"]

    def test_no_addresses_no_email(self, app: App, vpn: Integration) -> None:
        app.challenges.mail.run = lambda work: work()  # type: ignore[union-attr]
        press(app, call(app, vpn), "0")
        assert not [r for r in outbox(app) if r["channel"] == "email"]

    def test_the_address_is_left_out_when_the_tenant_does_not_audit_it(
        self, app: App, vpn: Integration
    ) -> None:
        settings(app, fraud_notify_emails=["sec@example.com"], audit_fields=["email"])
        app.challenges.mail.run = lambda work: work()  # type: ignore[union-attr]
        press(app, call(app, vpn), "0")
        (email,) = [r for r in outbox(app) if r["channel"] == "email"]
        assert "203.0.113.7" not in email["body"] and "Client address: -" in email["body"]


class TestPinAttempts:
    def test_one_wrong_pin_ends_the_call_by_default(self, app: App, pin_vpn: Integration) -> None:
        vpn = pin_vpn
        tx = call(app, vpn)
        assert "denied" in press(app, tx, "1357")
        assert outcome(app, vpn, tx) == (Result.REJECT, Reason.INVALID_PIN)

    def test_a_wrong_pin_is_asked_again_while_tries_are_left(
        self, app: App, pin_vpn: Integration
    ) -> None:
        vpn = pin_vpn
        settings(app, voice_pin_attempts=3)
        tx = call(app, vpn)
        again = press(app, tx, "1357")
        assert "That PIN is not right" in again and "press zero, then pound" in again
        assert outcome(app, vpn, tx) == (Result.CHALLENGE, None)
        assert "approved" in press(app, tx, "2468")
        assert outcome(app, vpn, tx)[0] is Result.ACCEPT

    def test_the_last_wrong_pin_denies(self, app: App, pin_vpn: Integration) -> None:
        vpn = pin_vpn
        settings(app, voice_pin_attempts=2)
        tx = call(app, vpn)
        assert "That PIN is not right" in press(app, tx, "1111")
        assert "denied" in press(app, tx, "2222")
        assert outcome(app, vpn, tx) == (Result.REJECT, Reason.INVALID_PIN)
        assert "denied" in press(app, tx, "2468")  # too late: decided
        assert outcome(app, vpn, tx) == (Result.REJECT, Reason.INVALID_PIN)
