"""Phone challenges: one-way SMS, two-way SMS, voice; limits, lockout, audit."""

from __future__ import annotations

import logging
from dataclasses import asdict

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from tests.support.phones import (
    LANDLINE,
    MOBILE,
    OTHER_MOBILE,
    PREMIUM,
    code_of,
    sent_to,
    signed,
)
from twostep.bootstrap import App
from twostep.domain.entities import Integration, Method, MethodKind
from twostep.domain.errors import (
    InvalidInput,
    NumberNotAllowed,
    RateLimited,
    ResendRefused,
    TransactionNotFound,
)
from twostep.domain.results import Decision, Reason, Result
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def vpn(app: App) -> Integration:
    return builders.integration(app)[0]


def phone(app: App, kind: MethodKind, number: str = MOBILE, **kw: object) -> Method:
    if "alice" not in {u.name for u in app.admin.list_users(OPERATOR, "default")}:
        builders.user(app, "alice")
    return app.enroll.enroll_phone(OPERATOR, "default", "alice", kind, number, **kw)  # type: ignore[arg-type]


def start(app: App, vpn: Integration, method: MethodKind | None = None) -> Decision:
    return app.signin.sign_in(
        SignInRequest(user="alice", integration=vpn, method=method, client_ip="203.0.113.7")
    )


def events(app: App) -> list[dict[str, object]]:
    return [asdict(e) for e in app.audit.query(OPERATOR, "default", limit=1000)]


def settings(app: App, **changes: object) -> None:
    app.admin.update_settings(OPERATOR, "default", changes)


class TestOneWaySms:
    def test_validate_answers_challenge_and_texts_a_code(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.SMS)
        decision = start(app, vpn)
        assert decision.result is Result.CHALLENGE
        assert decision.transaction_id and len(decision.transaction_id) >= 32
        assert decision.prompt == "Enter the code sent to +1 \u2022\u2022\u2022 0123"
        assert decision.methods == ("sms",)
        message = sent_to(app, decision.transaction_id)
        assert message["to"] == MOBILE and message["channel"] == "sms"
        assert "expires in 5 min" in message["body"]

    def test_the_right_code_accepts_once(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        code = code_of(app, tx)
        assert app.delivered.submit(vpn, tx, code).result is Result.ACCEPT
        # Sent again, the code decides nothing more: it hears the outcome and is a replay.
        again = app.delivered.submit(vpn, tx, code)
        assert (again.result, again.reason) == (Result.ACCEPT, None)
        last = events(app)[-2:]
        assert [(e["result"], e["reason"], e["detail"]) for e in last] == [
            ("accept", None, None),
            ("reject", "code_replayed", "answered again"),
        ]
        assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 0

    def test_spaces_and_dashes_in_the_code_are_ignored(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        code = code_of(app, tx)
        assert app.delivered.submit(vpn, tx, f" {code[:3]}-{code[3:]} ").result is Result.ACCEPT

    def test_the_accepting_update_itself_refuses_a_locked_user(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        """A lock landing from another node between the checks and the accept still holds."""
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        user = app.admin.get_user(OPERATOR, "default", "alice")
        with app.storage.transaction(write=True) as t:
            t.users.lock(user.id, clock.now() + 60)
            assert not t.challenges.accept(tx, clock.now(), attempt=True)
        decision = app.delivered.submit(vpn, tx, code_of(app, tx))
        assert (decision.result, decision.reason) == (Result.REJECT, Reason.USER_LOCKED)

    def test_three_wrong_codes_spend_the_challenge(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        code = code_of(app, tx)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(2):
            assert app.delivered.submit(vpn, tx, wrong).reason is Reason.INVALID_CODE
        # The third spends the budget and so decides: it hears the outcome the integration
        # will read, as does the right code coming after it.
        assert app.delivered.submit(vpn, tx, wrong).reason is Reason.TOO_MANY_ATTEMPTS
        late = app.delivered.submit(vpn, tx, code)
        assert (late.result, late.reason) == (Result.REJECT, Reason.TOO_MANY_ATTEMPTS)
        assert app.challenges.outcome(vpn, tx)[0].reason is Reason.TOO_MANY_ATTEMPTS
        assert [(e["reason"], e["detail"]) for e in events(app)[-4:]] == [
            ("invalid_code", None),
            ("invalid_code", None),
            ("too_many_attempts", None),
            ("code_replayed", "answered again"),
        ]

    def test_the_code_expires_after_sms_code_timeout(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        settings(app, sms_code_timeout=60)
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        clock.advance(60)
        decision = app.delivered.submit(vpn, tx, code_of(app, tx))
        assert (decision.result, decision.reason) == (Result.REJECT, Reason.TIMEOUT)

    def test_another_tenants_integration_cannot_see_the_transaction(
        self, app: App, vpn: Integration
    ) -> None:
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        app.admin.create_tenant(OPERATOR, "other")
        stranger = builders.integration(app, "web", tenant="other")[0]
        with pytest.raises(TransactionNotFound):
            app.delivered.submit(stranger, tx, code_of(app, tx))
        with pytest.raises(TransactionNotFound):
            app.challenges.outcome(stranger, tx)

    def test_every_step_is_audited_with_the_number(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        app.delivered.submit(vpn, tx, "000000" if code_of(app, tx) != "000000" else "111111")
        app.delivered.submit(vpn, tx, code_of(app, tx))
        found = [(e["result"], e["reason"], e["phone"], e["method"]) for e in events(app)]
        assert found == [
            ("challenge", None, MOBILE, "sms"),
            ("reject", "invalid_code", MOBILE, "sms"),
            ("accept", None, MOBILE, "sms"),
        ]
        assert all(
            e["client_ip"] == "203.0.113.7" and e["integration"] == "vpn" for e in events(app)
        )

    def test_resend_is_rate_limited_and_replaces_the_code(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        first = code_of(app, tx)
        with pytest.raises(ResendRefused):
            app.delivered.resend(vpn, tx)
        clock.advance(30)
        assert app.delivered.resend(vpn, tx).result is Result.CHALLENGE
        second = code_of(app, tx)
        if first != second:
            assert app.delivered.submit(vpn, tx, first).reason is Reason.INVALID_CODE
        assert app.delivered.submit(vpn, tx, second).result is Result.ACCEPT

    def test_at_most_max_sends(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        for _ in range(2):
            clock.advance(30)
            app.delivered.resend(vpn, tx)
        clock.advance(30)
        with pytest.raises(ResendRefused):
            app.delivered.resend(vpn, tx)


class TestAbuseLimits:
    def test_per_user_limit_in_a_sliding_window(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        settings(app, user_delivery_limit=2, delivery_window=600)
        phone(app, MethodKind.SMS)
        assert start(app, vpn).result is Result.CHALLENGE
        clock.advance(300)
        assert start(app, vpn).result is Result.CHALLENGE
        limited = start(app, vpn)
        assert (limited.result, limited.reason) == (Result.REJECT, Reason.RATE_LIMITED)
        assert events(app)[-1]["detail"] == "user limit reached"
        clock.advance(301)  # the first send left the window
        assert start(app, vpn).result is Result.CHALLENGE

    def test_per_tenant_limit(self, app: App, vpn: Integration) -> None:
        settings(app, tenant_delivery_limit=1)
        phone(app, MethodKind.SMS)
        builders.user(app, "bob")
        app.enroll.enroll_phone(OPERATOR, "default", "bob", MethodKind.SMS, OTHER_MOBILE)
        assert start(app, vpn).result is Result.CHALLENGE
        bob = app.signin.sign_in(SignInRequest(user="bob", integration=vpn))
        assert (bob.result, bob.reason) == (Result.REJECT, Reason.RATE_LIMITED)

    def test_resends_count_too(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        settings(app, user_delivery_limit=1)
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        clock.advance(30)
        with pytest.raises(RateLimited):
            app.delivered.resend(vpn, tx)

    def test_countries_outside_the_allow_list_are_refused(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.SMS)
        settings(app, allowed_calling_codes=["44", "49"])
        decision = start(app, vpn)
        assert (decision.result, decision.reason) == (Result.REJECT, Reason.NUMBER_NOT_ALLOWED)
        with pytest.raises(NumberNotAllowed):
            phone(app, MethodKind.SMS, "+14155550199")

    def test_premium_and_landline_numbers_take_no_texts(self, app: App) -> None:
        builders.user(app, "alice")
        for number in (PREMIUM, LANDLINE):
            with pytest.raises(NumberNotAllowed):
                app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, number)
        with pytest.raises(NumberNotAllowed):
            app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.VOICE, PREMIUM)
        voice = app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.VOICE, LANDLINE)
        assert voice.phone == LANDLINE

    def test_unanswered_triggers_count_toward_the_lockout(self, app: App, vpn: Integration) -> None:
        settings(app, max_failures=3)
        phone(app, MethodKind.SMS)
        for _ in range(2):
            assert start(app, vpn).result is Result.CHALLENGE
        locked = start(app, vpn)
        assert (locked.result, locked.reason) == (Result.REJECT, Reason.USER_LOCKED)

    def test_an_answered_challenge_forgives_its_trigger(self, app: App, vpn: Integration) -> None:
        settings(app, max_failures=3)
        phone(app, MethodKind.SMS)
        for _ in range(5):
            tx = start(app, vpn).transaction_id or ""
            assert app.delivered.submit(vpn, tx, code_of(app, tx)).result is Result.ACCEPT


class TestGateways:
    def test_a_failing_gateway_falls_over_to_the_next(self, app: App, vpn: Integration) -> None:
        dead = {"url": "http://127.0.0.1:9/sms", "body": {"to": "{to}"}, "timeout": 1.0}
        app.gateways.add(OPERATOR, "default", "dead", "http", dead)
        outbox = {"path": str(app.config.storage.home / "outbox.jsonl")}
        app.gateways.add(OPERATOR, "default", "spare", "outbox", outbox)
        phone(app, MethodKind.SMS)
        decision = start(app, vpn)
        assert decision.result is Result.CHALLENGE
        assert sent_to(app, decision.transaction_id or "")["gateway"] == "spare"

    def test_when_every_gateway_fails_the_answer_is_delivery_failed(
        self, app: App, vpn: Integration
    ) -> None:
        dead = {"url": "http://127.0.0.1:9/sms", "body": {"to": "{to}"}, "timeout": 1.0}
        app.gateways.add(OPERATOR, "default", "dead", "http", dead)
        phone(app, MethodKind.SMS)
        decision = start(app, vpn)
        assert (decision.result, decision.reason) == (Result.REJECT, Reason.DELIVERY_FAILED)
        last = events(app)[-1]
        assert last["reason"] == "delivery_failed"
        assert str(last["detail"]).startswith("dead: ")

    def test_a_failed_delivery_costs_the_user_neither_lockout_nor_limit(
        self, app: App, vpn: Integration
    ) -> None:
        settings(app, max_failures=2, user_delivery_limit=2)
        dead = {"url": "http://127.0.0.1:9/sms", "body": {"to": "{to}"}, "timeout": 1.0}
        app.gateways.add(OPERATOR, "default", "dead", "http", dead)
        phone(app, MethodKind.SMS)
        for _ in range(4):
            failed = start(app, vpn)
            assert failed.reason is Reason.DELIVERY_FAILED
            assert failed.methods == ("sms",)  # so the sign-in page can offer another
        assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 0

    def test_an_outbox_writes_only_under_twostep_home(self, app: App) -> None:
        for path in ("../elsewhere.jsonl", "secret.key", "/etc/passwd"):
            with pytest.raises(InvalidInput):
                app.gateways.add(OPERATOR, "default", "box", "outbox", {"path": path})
        made = app.gateways.add(OPERATOR, "default", "box", "outbox", {"path": "dev.jsonl"})
        assert made.settings["path"] == str((app.config.storage.home / "dev.jsonl").resolve())

    def test_credentials_are_sealed_and_never_listed(self, app: App) -> None:
        view = app.gateways.add(
            OPERATOR,
            "default",
            "twilio",
            "twilio",
            {"account_sid": "AC" + "0" * 32, "auth_token": "s3cr3t-token", "from_number": MOBILE},
        )
        assert "auth_token" not in view.settings and view.credentials == ("auth_token",)
        listed = app.gateways.list(OPERATOR, "default")[0]
        assert "s3cr3t-token" not in repr(listed)
        with app.storage.transaction() as tx:
            blob = tx.gateways.by_id(view.id).sealed_secrets  # type: ignore[union-attr]
        assert blob is not None and b"s3cr3t-token" not in blob


class TestTwoWaySms:
    def test_a_reply_with_the_code_accepts(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.SMS_REPLY)
        decision = start(app, vpn)
        tx = decision.transaction_id or ""
        assert decision.prompt == "Reply to the text message sent to +1 \u2022\u2022\u2022 0123"
        reply = signed(app, {"from": MOBILE, "text": f"  {code_of(app, tx)} "})
        app.delivered.inbound_text("outbox", reply)
        assert app.challenges.outcome(vpn, tx)[0].result is Result.ACCEPT

    def test_a_second_reply_after_approval_is_audited_as_a_replay(
        self, app: App, vpn: Integration
    ) -> None:
        phone(app, MethodKind.SMS_REPLY)
        tx = start(app, vpn).transaction_id or ""
        reply = {"from": MOBILE, "text": code_of(app, tx)}
        app.delivered.inbound_text("outbox", signed(app, reply))
        app.delivered.inbound_text("outbox", signed(app, reply))
        assert [e["reason"] for e in events(app)][-2:] == [None, "code_replayed"]

    def test_the_integration_cannot_submit_the_code_itself(
        self, app: App, vpn: Integration
    ) -> None:
        phone(app, MethodKind.SMS_REPLY)
        tx = start(app, vpn).transaction_id or ""
        with pytest.raises(InvalidInput):
            app.delivered.submit(vpn, tx, code_of(app, tx))

    def test_a_late_reply_is_refused_and_audited(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        phone(app, MethodKind.SMS_REPLY)
        tx = start(app, vpn).transaction_id or ""
        clock.advance(61)
        app.delivered.inbound_text(
            "outbox", signed(app, {"from": MOBILE, "text": code_of(app, tx)})
        )
        assert app.challenges.outcome(vpn, tx)[0].reason is Reason.TIMEOUT
        assert [e["reason"] for e in events(app)][-1] == "timeout"

    def test_a_reply_with_another_code_is_a_wrong_try(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.SMS_REPLY)
        tx = start(app, vpn).transaction_id or ""
        wrong = f"{(int(code_of(app, tx)) + 1) % 10**6:06d}"
        app.delivered.inbound_text("outbox", signed(app, {"from": MOBILE, "text": wrong}))
        assert app.challenges.outcome(vpn, tx)[0].result is Result.CHALLENGE
        assert events(app)[-1]["reason"] == "invalid_code"

    def test_an_unsigned_reply_is_refused(self, app: App, vpn: Integration) -> None:
        from twostep.domain.delivery import WebhookRefused

        phone(app, MethodKind.SMS_REPLY)
        start(app, vpn)
        forged = signed(app, {"from": MOBILE, "text": "123456"})
        forged = type(forged)(forged.url, "POST", {"content-type": "application/json"}, forged.body)
        with pytest.raises(WebhookRefused):
            app.delivered.inbound_text("outbox", forged)


class TestVoice:
    def call(self, app: App, tx: str, digits: str | None, status: str | None = None) -> str:
        data: dict[str, object] = {"reference": tx}
        if digits is not None:
            data["digits"] = digits
        if status is not None:
            data["status"] = status
        answer = app.delivered.call_event("outbox", signed(app, data))
        return "" if answer is None else answer.body.decode()

    def test_pressing_pound_approves(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.VOICE, LANDLINE)
        decision = start(app, vpn)
        tx = decision.transaction_id or ""
        placed = sent_to(app, tx)
        assert placed["channel"] == "voice" and placed["to"] == LANDLINE
        assert "press the pound key" in placed["script"]
        assert placed["callback_url"].endswith(f"/v1/gateways/outbox/calls?ref={tx}")
        assert "approved" in self.call(app, tx, "")
        assert app.challenges.outcome(vpn, tx)[0].result is Result.ACCEPT

    def test_the_call_is_placed_from_the_tenants_caller_id(
        self, app: App, vpn: Integration
    ) -> None:
        settings(app, caller_id="+14155550100")
        phone(app, MethodKind.VOICE, LANDLINE)
        assert sent_to(app, start(app, vpn).transaction_id or "")["caller_id"] == "+14155550100"

    def test_the_script_is_spoken_in_the_users_language(self, app: App, vpn: Integration) -> None:
        builders.user(app, "alice", language="de-CH")
        phone(app, MethodKind.VOICE, LANDLINE)
        placed = sent_to(app, start(app, vpn).transaction_id or "")
        assert placed["language"] == "de-DE" and "Rautetaste" in placed["script"]

    def test_zero_pound_reports_fraud_and_blocks_the_user(
        self, app: App, vpn: Integration, caplog: pytest.LogCaptureFixture
    ) -> None:
        phone(app, MethodKind.VOICE, LANDLINE)
        tx = start(app, vpn).transaction_id or ""
        with caplog.at_level(logging.WARNING, "twostep.challenges"):
            self.call(app, tx, "0")
        assert app.challenges.outcome(vpn, tx)[0].reason is Reason.FRAUD_REPORTED
        assert "ALERT fraud reported" in caplog.text
        assert app.admin.get_user(OPERATOR, "default", "alice").locked_until is not None
        assert start(app, vpn).reason is Reason.USER_LOCKED

    def test_a_pin_is_asked_when_set(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.VOICE, LANDLINE, pin="2468")
        tx = start(app, vpn).transaction_id or ""
        assert "enter your PIN" in sent_to(app, tx)["script"]
        self.call(app, tx, "1357")
        assert app.challenges.outcome(vpn, tx)[0].reason is Reason.INVALID_PIN
        tx = start(app, vpn).transaction_id or ""
        self.call(app, tx, "2468")
        assert app.challenges.outcome(vpn, tx)[0].result is Result.ACCEPT

    def test_a_call_nobody_answers_is_rejected(self, app: App, vpn: Integration) -> None:
        phone(app, MethodKind.VOICE, LANDLINE)
        tx = start(app, vpn).transaction_id or ""
        self.call(app, tx, None, status="no-answer")
        assert app.challenges.outcome(vpn, tx)[0].reason is Reason.CALL_NOT_ANSWERED


class TestMethodChoice:
    def test_the_integration_may_ask_for_another_method(self, app: App, vpn: Integration) -> None:
        builders.enrolled_user(app)
        phone(app, MethodKind.SMS)
        default = start(app, vpn)
        assert default.reason is Reason.CODE_REQUIRED
        assert default.methods == ("app_code", "sms")
        assert start(app, vpn, MethodKind.SMS).result is Result.CHALLENGE


class TestExpiry:
    def test_overdue_challenges_are_rejected_and_audited_once(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        phone(app, MethodKind.SMS)
        tx = start(app, vpn).transaction_id or ""
        assert app.challenges.expire_overdue() == 0
        clock.advance(300)
        assert app.challenges.expire_overdue() == 1
        assert app.challenges.expire_overdue() == 0
        assert app.challenges.outcome(vpn, tx)[0].reason is Reason.TIMEOUT
        assert [e["reason"] for e in events(app)].count("timeout") == 1
