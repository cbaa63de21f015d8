"""Mobile authenticator: activation, push requests, signed answers, fraud, fatigue limits."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict

import pytest

from tests.support import builders
from tests.support.devices import FakeDevice
from tests.support.fake_twilio import serving
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.entities import Device, DeviceState, Integration, MethodKind, OtpParams
from twostep.domain.errors import (
    AccountNotActivated,
    ActivationInvalid,
    InvalidInput,
    TransactionNotFound,
    Unauthenticated,
)
from twostep.domain.results import Decision, Reason, Result
from twostep.factors import app_push, otp
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def vpn(app: App) -> Integration:
    return builders.integration(app)[0]


@pytest.fixture
def phone(app: App) -> FakeDevice:
    builders.user(app, "alice")
    return FakeDevice.new().activate(app)


def sign_in(app: App, vpn: Integration, **kw: object) -> Decision:
    return app.signin.sign_in(
        SignInRequest(user="alice", integration=vpn, client_ip="203.0.113.7", **kw)  # type: ignore[arg-type]
    )


def respond(
    app: App, phone: FakeDevice, decision: str, number: int | None = None, tx: str | None = None
) -> Decision:
    request = app.push.requests(device(app, phone))[0]
    tx = tx or request.transaction_id
    signature = phone.answer(tx, decision, number, request.nonce)
    return app.push.answer(device(app, phone), tx, decision, number, request.nonce, signature)


def events(app: App) -> list[dict[str, object]]:
    return [asdict(e) for e in app.audit.query(OPERATOR, "default", limit=1000)]


class TestActivation:
    def test_one_activation_gives_push_and_offline_codes(
        self, app: App, phone: FakeDevice, clock: FakeClock
    ) -> None:
        kinds = {m.kind for m in app.enroll.list(OPERATOR, "default", "alice")}
        assert kinds == {MethodKind.APP_PUSH, MethodKind.APP_CODE}
        assert phone.activated is not None
        seed = otp.parse_seed(phone.activated.totp_secret)
        code = otp.hotp(seed, otp_params(), otp.time_step(clock.now(), 30))
        vpn = builders.integration(app)[0]
        assert sign_in(app, vpn, code=code).result is Result.ACCEPT

    def test_the_code_works_once(self, app: App, phone: FakeDevice) -> None:
        started = app.devices.start_activation(OPERATOR, "default", "alice")
        app.devices.activate(started.code, FakeDevice.new().key())
        with pytest.raises(ActivationInvalid):
            app.devices.activate(started.code, FakeDevice.new().key())

    def test_the_code_expires_after_ten_minutes(
        self, app: App, phone: FakeDevice, clock: FakeClock
    ) -> None:
        started = app.devices.start_activation(OPERATOR, "default", "alice")
        clock.advance(600)
        with pytest.raises(ActivationInvalid):
            app.devices.activate(started.code, FakeDevice.new().key())

    def test_dashes_and_case_do_not_matter(self, app: App, phone: FakeDevice) -> None:
        started = app.devices.start_activation(OPERATOR, "default", "alice")
        assert started.code.count("-") == 3
        app.devices.activate(started.code.lower(), FakeDevice.new("p256").key())

    def test_a_bad_public_key_is_refused(self, app: App, phone: FakeDevice) -> None:
        started = app.devices.start_activation(OPERATOR, "default", "alice")
        key = FakeDevice.new().key()
        for bad in ("AAAA", app_push.b64encode(b"\x04" + b"\x01" * 64)):
            with pytest.raises(InvalidInput):
                app.devices.activate(started.code, type(key)("p256", bad, "x", None, {}))

    def test_replacing_a_phone_revokes_the_old_one_in_one_step(
        self, app: App, phone: FakeDevice
    ) -> None:
        started = app.devices.start_activation(OPERATOR, "default", "alice", replaces=phone.id)
        new = FakeDevice.new()
        new.activated = app.devices.activate(started.code, new.key())
        states = {d.id: d.state for d in app.devices.list(OPERATOR, "default", "alice")}
        assert states == {phone.id: DeviceState.REVOKED, new.id: DeviceState.ACTIVE}
        assert len(app.enroll.list(OPERATOR, "default", "alice")) == 2

    def test_a_new_phone_takes_the_old_ones_default(self, app: App, phone: FakeDevice) -> None:
        app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, "+14155550123")
        started = app.devices.start_activation(OPERATOR, "default", "alice", replaces=phone.id)
        new = FakeDevice.new()
        new.activated = app.devices.activate(started.code, new.key())
        default = app.admin.get_user(OPERATOR, "default", "alice").default_method_id
        methods = {m.id: m for m in app.enroll.list(OPERATOR, "default", "alice")}
        assert methods[default or ""].kind is MethodKind.APP_PUSH
        assert methods[default or ""].device_id == new.id

    def test_deleting_the_push_method_deactivates_the_device(
        self, app: App, phone: FakeDevice
    ) -> None:
        push = next(
            m
            for m in app.enroll.list(OPERATOR, "default", "alice")
            if m.kind is MethodKind.APP_PUSH
        )
        app.enroll.delete(OPERATOR, "default", "alice", push.id)
        [listed] = app.devices.list(OPERATOR, "default", "alice")
        assert listed.state is DeviceState.REVOKED
        assert app.enroll.list(OPERATOR, "default", "alice") == []

    def test_deleting_the_offline_codes_leaves_no_default_behind(
        self, app: App, phone: FakeDevice
    ) -> None:
        app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, "+14155550123")
        codes = next(
            m
            for m in app.enroll.list(OPERATOR, "default", "alice")
            if m.kind is MethodKind.APP_CODE
        )
        app.enroll.delete(OPERATOR, "default", "alice", codes.id)
        [left] = app.enroll.list(OPERATOR, "default", "alice")
        assert left.kind is MethodKind.SMS
        assert app.admin.get_user(OPERATOR, "default", "alice").default_method_id == left.id


class TestDeviceAuthentication:
    def test_a_signed_request_names_its_device(self, app: App, phone: FakeDevice) -> None:
        ts = int(app.deps.clock.now())
        path = f"/v1/devices/{phone.id}/requests"
        sig = app_push.b64decode(phone.header("GET", path, ts).split("sig=")[1], "sig")
        assert app.devices.authenticate(phone.id, ts, sig, "GET", path).id == phone.id
        with pytest.raises(Unauthenticated):
            app.devices.authenticate(phone.id, ts, sig, "GET", path + "?wait=30")
        with pytest.raises(Unauthenticated):
            app.devices.authenticate(phone.id, ts - 61, sig, "GET", path)

    def test_a_deactivated_device_hears_account_not_activated(
        self, app: App, phone: FakeDevice
    ) -> None:
        app.devices.deactivate(OPERATOR, "default", "alice", phone.id)
        ts = int(app.deps.clock.now())
        sig = app_push.b64decode(phone.header("GET", "/x", ts).split("sig=")[1], "sig")
        with pytest.raises(AccountNotActivated) as caught:
            app.devices.authenticate(phone.id, ts, sig, "GET", "/x")
        assert caught.value.message == "Authentication request is not for an activated account"
        assert app.enroll.list(OPERATOR, "default", "alice") == []

    def test_only_the_device_itself_learns_it_was_deactivated(
        self, app: App, phone: FakeDevice
    ) -> None:
        """docs/device-api.md §2: a bad signature hears 401 first, whatever the state."""
        app.devices.deactivate(OPERATOR, "default", "alice", phone.id)
        ts = int(app.deps.clock.now())
        with pytest.raises(Unauthenticated):
            app.devices.authenticate(phone.id, ts, b"\x00" * 64, "GET", "/x")

    def test_a_deleted_user_leaves_no_activated_account(self, app: App, phone: FakeDevice) -> None:
        app.admin.delete_user(OPERATOR, "default", "alice")
        with pytest.raises(AccountNotActivated):
            app.devices.authenticate(phone.id, int(app.deps.clock.now()), b"", "GET", "/x")


class TestPushSignIn:
    def test_validate_answers_challenge_with_a_two_digit_number(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        decision = sign_in(app, vpn)
        assert decision.result is Result.CHALLENGE
        assert decision.number is not None and 10 <= decision.number <= 99
        assert decision.prompt == f"Open your authenticator app and enter {decision.number}"
        [request] = app.push.requests(device(app, phone))
        assert request.transaction_id == decision.transaction_id
        assert request.message == "Sign-in to vpn from 203.0.113.7"
        # The number is for the sign-in page only: no field of the request carries it (a
        # digit pair inside the address, "20" of "203.0.113.7", is not it).
        assert not re.search(rf"\b{decision.number}\b", request.message)
        assert decision.number not in (getattr(request, f) for f in request.__slots__)

    def test_approving_with_the_number_accepts(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        decision = sign_in(app, vpn)
        answer = respond(app, phone, "approve", decision.number)
        assert answer.result is Result.ACCEPT
        assert app.challenges.outcome(vpn, decision.transaction_id or "")[0].result is Result.ACCEPT

    def test_a_wrong_number_denies(self, app: App, vpn: Integration, phone: FakeDevice) -> None:
        decision = sign_in(app, vpn)
        wrong = 10 if decision.number != 10 else 11
        assert respond(app, phone, "approve", wrong).reason is Reason.WRONG_NUMBER
        assert (
            app.challenges.outcome(vpn, decision.transaction_id or "")[0].reason
            is Reason.WRONG_NUMBER
        )

    def test_deny_rejects(self, app: App, vpn: Integration, phone: FakeDevice) -> None:
        decision = sign_in(app, vpn)
        respond(app, phone, "deny")
        assert app.challenges.outcome(vpn, decision.transaction_id or "")[0].reason is Reason.DENIED

    def test_a_forged_answer_denies_and_is_audited(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        decision = sign_in(app, vpn)
        [request] = app.push.requests(device(app, phone))
        forger = FakeDevice.new()
        signature = forger.answer(request.transaction_id, "approve", decision.number, request.nonce)
        answer = app.push.answer(
            device(app, phone),
            request.transaction_id,
            "approve",
            decision.number,
            request.nonce,
            signature,
        )
        assert answer.reason is Reason.INVALID_SIGNATURE
        assert events(app)[-1]["reason"] == "invalid_signature"

    def test_a_replayed_answer_decides_nothing_more(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        decision = sign_in(app, vpn)
        [request] = app.push.requests(device(app, phone))
        signature = phone.answer(request.transaction_id, "approve", decision.number, request.nonce)
        args = (request.transaction_id, "approve", decision.number, request.nonce, signature)
        assert app.push.answer(device(app, phone), *args).result is Result.ACCEPT
        # Sent again, it hears the outcome and is audited once as a replay.
        again = app.push.answer(device(app, phone), *args)
        assert (again.result, again.reason) == (Result.ACCEPT, None)
        assert [(e["result"], e["reason"], e["detail"]) for e in events(app)[-2:]] == [
            ("accept", None, None),
            ("reject", "code_replayed", "answered again"),
        ]

    def test_a_denial_after_the_approval_hears_the_approval(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        decision = sign_in(app, vpn)
        [request] = app.push.requests(device(app, phone))
        tx = request.transaction_id
        approve = phone.answer(tx, "approve", decision.number, request.nonce)
        deny = phone.answer(tx, "deny", None, request.nonce)
        me = device(app, phone)
        assert app.push.answer(me, tx, "approve", decision.number, request.nonce, approve).result
        told = app.push.answer(me, tx, "deny", None, request.nonce, deny)
        assert (told.result, told.reason) == (Result.ACCEPT, None)
        assert app.challenges.outcome(vpn, tx)[0].result is Result.ACCEPT
        assert events(app)[-1]["detail"] == "answered again"

    def test_a_fraud_report_after_the_approval_is_recorded_once_and_locks(
        self, app: App, vpn: Integration, phone: FakeDevice, caplog: pytest.LogCaptureFixture
    ) -> None:
        decision = sign_in(app, vpn)
        [request] = app.push.requests(device(app, phone))
        tx = request.transaction_id
        me = device(app, phone)
        approve = phone.answer(tx, "approve", decision.number, request.nonce)
        fraud = phone.answer(tx, "fraud", None, request.nonce)
        assert app.push.answer(me, tx, "approve", decision.number, request.nonce, approve).result
        with caplog.at_level(logging.WARNING, "twostep.challenges"):
            for _ in range(2):  # the report, then the same report resent
                told = app.push.answer(me, tx, "fraud", None, request.nonce, fraud)
                assert (told.result, told.reason) == (Result.ACCEPT, None)
        assert app.challenges.outcome(vpn, tx)[0].result is Result.ACCEPT  # unchanged
        assert [(e["result"], e["reason"], e["detail"]) for e in events(app)[-3:]] == [
            ("accept", None, None),
            ("reject", "fraud_reported", "after approval"),
            ("reject", "code_replayed", "answered again"),
        ]
        alerts = [r for r in caplog.records if "ALERT fraud reported" in r.getMessage()]
        assert len(alerts) == 1 and "after approval" in alerts[0].getMessage()
        assert app.admin.get_user(OPERATOR, "default", "alice").locked_until is not None

    def test_an_answer_signed_for_another_request_does_not_cross_over(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        first, second = sign_in(app, vpn), sign_in(app, vpn)
        requests = {r.transaction_id: r for r in app.push.requests(device(app, phone))}
        one = requests[first.transaction_id or ""]
        signature = phone.answer(one.transaction_id, "approve", first.number, one.nonce)
        crossed = app.push.answer(
            device(app, phone),
            second.transaction_id or "",
            "approve",
            first.number,
            one.nonce,
            signature,
        )
        assert crossed.reason is Reason.INVALID_SIGNATURE

    def test_a_late_answer_is_a_timeout(
        self, app: App, vpn: Integration, phone: FakeDevice, clock: FakeClock
    ) -> None:
        decision = sign_in(app, vpn)
        [request] = app.push.requests(device(app, phone))
        clock.advance(60)
        signature = phone.answer(request.transaction_id, "approve", decision.number, request.nonce)
        answer = app.push.answer(
            device(app, phone),
            request.transaction_id,
            "approve",
            decision.number,
            request.nonce,
            signature,
        )
        assert answer.reason is Reason.TIMEOUT

    def test_another_device_cannot_answer(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        decision = sign_in(app, vpn)
        builders.user(app, "bob")
        bobs = FakeDevice.new().activate(app, "bob")
        with pytest.raises(TransactionNotFound):
            app.push.answer(
                device(app, bobs), decision.transaction_id or "", "deny", None, "n", "s"
            )

    def test_fraud_denies_blocks_and_alerts(
        self, app: App, vpn: Integration, phone: FakeDevice, caplog: pytest.LogCaptureFixture
    ) -> None:
        decision = sign_in(app, vpn)
        with caplog.at_level(logging.WARNING, "twostep.challenges"):
            respond(app, phone, "fraud")
        assert (
            app.challenges.outcome(vpn, decision.transaction_id or "")[0].reason
            is Reason.FRAUD_REPORTED
        )
        assert "ALERT fraud reported" in caplog.text
        assert sign_in(app, vpn).reason is Reason.USER_LOCKED
        assert events(app)[-2]["reason"] == "fraud_reported"

    def test_fraud_is_a_plain_denial_where_fraud_reports_are_off(
        self, app: App, vpn: Integration, phone: FakeDevice, caplog: pytest.LogCaptureFixture
    ) -> None:
        app.admin.update_settings(OPERATOR, "default", {"fraud_alert_enabled": False})
        decision = sign_in(app, vpn)
        with caplog.at_level(logging.WARNING, "twostep.challenges"):
            respond(app, phone, "fraud")
        outcome = app.challenges.outcome(vpn, decision.transaction_id or "")[0]
        assert outcome.reason is Reason.DENIED and "ALERT" not in caplog.text
        assert sign_in(app, vpn).reason is not Reason.USER_LOCKED

    def test_fraud_is_posted_to_the_tenants_alert_webhook(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        with serving() as receiver:
            url = f"{receiver.url}/hooks/fraud"
            app.admin.update_settings(OPERATOR, "default", {"alert_webhook_url": url})
            decision = sign_in(app, vpn)
            respond(app, phone, "fraud")
            for _ in range(50):  # bounded: the post is sent from a background thread
                if receiver.requests:
                    break
                time.sleep(0.1)
        [alert] = [r.json() for r in receiver.requests]
        assert alert["alert"] == "fraud_reported" and alert["user"] == "alice"
        assert alert["transaction_id"] == decision.transaction_id
        assert alert["method"] == "app_push" and alert["user_locked"] is True

    def test_fraud_reported_after_the_request_expired_still_counts(
        self, app: App, vpn: Integration, phone: FakeDevice, clock: FakeClock
    ) -> None:
        decision = sign_in(app, vpn)
        [request] = app.push.requests(device(app, phone))
        clock.advance(120)
        signature = phone.answer(request.transaction_id, "fraud", None, request.nonce)
        answer = app.push.answer(
            device(app, phone), request.transaction_id, "fraud", None, request.nonce, signature
        )
        # The request expired unanswered (its outcome stays timeout), yet the report counts.
        assert (answer.result, answer.reason) == (Result.REJECT, Reason.TIMEOUT)
        assert [(e["reason"], e["detail"]) for e in events(app)[-2:]] == [
            ("timeout", None),
            ("fraud_reported", "after expiry"),
        ]
        assert app.admin.get_user(OPERATOR, "default", "alice").locked_until is not None
        assert decision.transaction_id == request.transaction_id


class TestPushChannels:
    def test_an_ntfy_device_is_woken_without_any_detail(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        with serving() as ntfy:
            topic = f"{ntfy.url}/twostep-alice"
            app.devices.update_push(device(app, phone), {"kind": "ntfy", "url": topic})
            assert device(app, phone).push_kind == "ntfy"
            decision = sign_in(app, vpn)
        [woken] = ntfy.requests
        assert woken.path == "/twostep-alice"
        assert woken.body == b'{"type":"request"}'  # no number, no message, no secret
        assert str(decision.number).encode() not in woken.body

    def test_a_gone_channel_falls_back_to_pull(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        with serving() as ntfy:
            ntfy.answer = lambda _request: (410, {"error": "gone"})
            app.devices.update_push(device(app, phone), {"kind": "ntfy", "url": f"{ntfy.url}/t"})
            assert sign_in(app, vpn).result is Result.CHALLENGE
        assert device(app, phone).push_kind == "pull"
        assert len(app.push.requests(device(app, phone))) == 1  # still reachable by pull

    def test_an_unknown_push_kind_is_refused(self, app: App, phone: FakeDevice) -> None:
        with pytest.raises(InvalidInput):
            app.devices.update_push(device(app, phone), {"kind": "pigeon"})


class TestPushFatigue:
    def test_at_most_three_pending_requests(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        for _ in range(3):
            assert sign_in(app, vpn).result is Result.CHALLENGE
        assert sign_in(app, vpn).reason is Reason.RATE_LIMITED
        assert "pending" in str(events(app)[-1]["detail"])

    def test_a_per_user_limit_per_ten_minutes(
        self, app: App, vpn: Integration, phone: FakeDevice, clock: FakeClock
    ) -> None:
        app.admin.update_settings(OPERATOR, "default", {"push_user_limit": 2, "max_failures": 50})
        for _ in range(2):
            respond(app, phone, "approve", sign_in(app, vpn).number)
        assert sign_in(app, vpn).reason is Reason.RATE_LIMITED
        clock.advance(600)
        assert sign_in(app, vpn).result is Result.CHALLENGE

    def test_push_requests_and_texts_have_limits_of_their_own(
        self, app: App, vpn: Integration, phone: FakeDevice
    ) -> None:
        app.admin.update_settings(
            OPERATOR,
            "default",
            {"push_user_limit": 2, "user_delivery_limit": 1, "max_failures": 50},
        )
        app.enroll.enroll_phone(OPERATOR, "default", "alice", MethodKind.SMS, "+14155550123")
        for _ in range(2):
            respond(app, phone, "approve", sign_in(app, vpn).number)
        assert sign_in(app, vpn, method=MethodKind.SMS).result is Result.CHALLENGE

    def test_a_pause_after_repeated_denials(
        self, app: App, vpn: Integration, phone: FakeDevice, clock: FakeClock
    ) -> None:
        app.admin.update_settings(OPERATOR, "default", {"max_failures": 50})
        for _ in range(3):
            sign_in(app, vpn)
            respond(app, phone, "deny")
        paused = sign_in(app, vpn)
        assert paused.reason is Reason.RATE_LIMITED
        assert "paused" in str(events(app)[-1]["detail"])
        clock.advance(601)
        assert sign_in(app, vpn).result is Result.CHALLENGE


def device(app: App, phone: FakeDevice) -> Device:
    with app.storage.transaction() as tx:
        found = tx.devices.by_id(phone.id)
    assert found is not None
    return found


def otp_params() -> OtpParams:
    return OtpParams()
