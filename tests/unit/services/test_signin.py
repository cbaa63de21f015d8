"""The validate use case: verification rules, lockout, one-time use, audit events."""

from __future__ import annotations

import pytest

from tests.support import builders
from tests.support.fakes import FakeClock
from twostep.bootstrap import App
from twostep.domain.entities import Integration, MethodKind, MfaState, OtpParams, OtpType
from twostep.domain.errors import Forbidden
from twostep.domain.results import Decision, Reason, Result
from twostep.factors.otp import b32encode
from twostep.services.admin import OPERATOR
from twostep.services.signin_request import SignInRequest

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def vpn(app: App) -> Integration:
    return builders.integration(app)[0]


def validate(app: App, vpn: Integration, user: str, code: str | None, **kw: object) -> Decision:
    return app.signin.sign_in(
        SignInRequest(user=user, integration=vpn, code=code, **kw)  # type: ignore[arg-type]
    )


def events(app: App, **filters: object) -> list[dict[str, object]]:
    from dataclasses import asdict

    found = app.audit.query(OPERATOR, "default", limit=1000, **filters)  # type: ignore[arg-type]
    return [asdict(e) for e in found]


class TestAppCode:
    def test_a_current_code_is_accepted(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        alice = builders.enrolled_user(app)
        decision = validate(app, vpn, "alice", alice.totp(clock.now()))
        assert decision.result is Result.ACCEPT
        assert decision.methods == ("app_code",)

    @pytest.mark.parametrize("offset", [-1, 1])
    def test_one_step_either_side_is_accepted(
        self, app: App, vpn: Integration, clock: FakeClock, offset: int
    ) -> None:
        alice = builders.enrolled_user(app)
        clock.advance(120)  # past the confirmation code
        assert validate(app, vpn, "alice", alice.totp(clock.now(), offset)).result is Result.ACCEPT

    def test_two_steps_away_is_rejected(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        alice = builders.enrolled_user(app)
        decision = validate(app, vpn, "alice", alice.totp(clock.now(), 2))
        assert decision == Decision(Result.REJECT, Reason.INVALID_CODE)

    def test_window_is_a_tenant_setting(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        alice = builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"totp_window": 0})
        clock.advance(120)
        assert validate(app, vpn, "alice", alice.totp(clock.now(), 1)).result is Result.REJECT
        assert validate(app, vpn, "alice", alice.totp(clock.now())).result is Result.ACCEPT

    def test_a_code_is_accepted_once(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        alice = builders.enrolled_user(app)
        code = alice.totp(clock.now())
        assert validate(app, vpn, "alice", code).result is Result.ACCEPT
        assert validate(app, vpn, "alice", code) == Decision(Result.REJECT, Reason.CODE_REPLAYED)

    def test_an_older_code_after_a_newer_one_is_rejected(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        clock.advance(120)
        assert validate(app, vpn, "alice", alice.totp(clock.now(), 1)).result is Result.ACCEPT
        assert validate(app, vpn, "alice", alice.totp(clock.now())).reason is Reason.CODE_REPLAYED

    def test_the_confirmation_code_cannot_be_replayed(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)  # confirmed with the previous step's code
        assert validate(app, vpn, "alice", alice.totp(clock.now(), -1)).result is Result.REJECT

    @pytest.mark.parametrize("code", ["12345a", "1234567", "12345", "", "１２３４５６", "12 34 5x"])  # noqa: RUF001
    def test_malformed_codes_are_wrong_codes(self, app: App, vpn: Integration, code: str) -> None:
        builders.enrolled_user(app)
        assert validate(app, vpn, "alice", code) == Decision(Result.REJECT, Reason.INVALID_CODE)
        assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 1

    def test_spaces_in_a_code_are_ignored(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        code = alice.totp(clock.now())
        assert validate(app, vpn, "alice", f"{code[:3]} {code[3:]}").result is Result.ACCEPT

    def test_a_pending_method_does_not_verify(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        builders.user(app, "bob")
        app.enroll.enroll_app_code(OPERATOR, "default", "bob")
        assert validate(app, vpn, "bob", "123456").reason is Reason.NO_METHOD_REGISTERED


class TestOathToken:
    def test_hotp_looks_ahead_ten(self, app: App, vpn: Integration) -> None:
        builders.user(app)
        tok = builders.token(app)
        assert validate(app, vpn, "alice", tok.hotp(10)).result is Result.ACCEPT
        assert validate(app, vpn, "alice", tok.hotp(11)).result is Result.ACCEPT
        # A recently spent HOTP code is recognised as a replay, not as a typo.
        assert validate(app, vpn, "alice", tok.hotp(10)).reason is Reason.CODE_REPLAYED

    def test_an_old_spent_hotp_code_is_just_wrong(self, app: App, vpn: Integration) -> None:
        builders.user(app)
        tok = builders.token(app)
        assert validate(app, vpn, "alice", tok.hotp(10)).result is Result.ACCEPT
        assert validate(app, vpn, "alice", tok.hotp(4)).reason is Reason.INVALID_CODE
        assert validate(app, vpn, "alice", tok.hotp(6)).reason is Reason.CODE_REPLAYED

    def test_hotp_beyond_the_look_ahead_is_rejected(self, app: App, vpn: Integration) -> None:
        builders.user(app)
        tok = builders.token(app)
        assert validate(app, vpn, "alice", tok.hotp(11)).reason is Reason.INVALID_CODE

    def test_look_ahead_is_a_tenant_setting(self, app: App, vpn: Integration) -> None:
        builders.user(app)
        tok = builders.token(app)
        app.admin.update_settings(OPERATOR, "default", {"hotp_lookahead": 20})
        assert validate(app, vpn, "alice", tok.hotp(20)).result is Result.ACCEPT

    def test_resync_from_two_consecutive_codes(self, app: App, vpn: Integration) -> None:
        builders.user(app)
        tok = builders.token(app)
        app.enroll.resync(OPERATOR, "default", "alice", tok.method.id, tok.hotp(50), tok.hotp(51))
        assert validate(app, vpn, "alice", tok.hotp(51)).result is Result.REJECT
        assert validate(app, vpn, "alice", tok.hotp(52)).result is Result.ACCEPT

    @pytest.mark.parametrize(
        "params",
        [
            OtpParams(OtpType.TOTP, digits=8, period=60),
            OtpParams(OtpType.HOTP, digits=8),
        ],
    )
    def test_eight_digit_tokens(
        self, app: App, vpn: Integration, clock: FakeClock, params: OtpParams
    ) -> None:
        builders.user(app)
        tok = builders.token(app, params=params)
        code = tok.totp(clock.now()) if params.type is OtpType.TOTP else tok.hotp(0)
        assert validate(app, vpn, "alice", code).result is Result.ACCEPT

    def test_any_of_the_users_code_methods_is_tried(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        tok = builders.token(app)
        assert validate(app, vpn, "alice", tok.hotp(0)).result is Result.ACCEPT
        assert validate(app, vpn, "alice", alice.totp(clock.now())).result is Result.ACCEPT

    def test_an_asked_for_method_restricts_the_candidates(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        code = alice.totp(clock.now())
        decision = validate(app, vpn, "alice", code, method=MethodKind.OATH_TOKEN)
        assert decision.result is Result.REJECT
        assert decision.reason is Reason.METHOD_NOT_REGISTERED
        assert validate(app, vpn, "alice", code, method=MethodKind.APP_CODE).result is Result.ACCEPT


class TestLockout:
    def test_ten_failures_lock_and_then_a_right_code_is_refused(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        for _ in range(10):
            assert validate(app, vpn, "alice", "000000").reason is Reason.INVALID_CODE
        right = validate(app, vpn, "alice", alice.totp(clock.now()))
        wrong = validate(app, vpn, "alice", "000000")
        assert right == wrong == Decision(Result.REJECT, Reason.USER_LOCKED)

    def test_the_lockout_period_passes(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        alice = builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"max_failures": 3, "lockout_seconds": 300})
        for _ in range(3):
            validate(app, vpn, "alice", "000000")
        clock.advance(299)
        assert validate(app, vpn, "alice", alice.totp(clock.now())).reason is Reason.USER_LOCKED
        clock.advance(2)
        assert validate(app, vpn, "alice", alice.totp(clock.now())).result is Result.ACCEPT

    def test_after_the_period_a_single_failure_does_not_relock(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"max_failures": 3, "lockout_seconds": 60})
        for _ in range(3):
            validate(app, vpn, "alice", "000000")
        clock.advance(61)
        validate(app, vpn, "alice", "000000")
        assert validate(app, vpn, "alice", alice.totp(clock.now())).result is Result.ACCEPT

    def test_zero_period_locks_until_an_admin_unlocks(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"max_failures": 2, "lockout_seconds": 0})
        validate(app, vpn, "alice", "000000")
        validate(app, vpn, "alice", "000000")
        clock.advance(30 * 24 * 3600)
        assert validate(app, vpn, "alice", alice.totp(clock.now())).reason is Reason.USER_LOCKED
        app.admin.unlock_user(OPERATOR, "default", "alice")
        assert validate(app, vpn, "alice", alice.totp(clock.now())).result is Result.ACCEPT

    def test_a_success_resets_the_count(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        alice = builders.enrolled_user(app)
        app.admin.update_settings(OPERATOR, "default", {"max_failures": 3})
        validate(app, vpn, "alice", "000000")
        validate(app, vpn, "alice", "000000")
        assert validate(app, vpn, "alice", alice.totp(clock.now())).result is Result.ACCEPT
        validate(app, vpn, "alice", "000000")
        validate(app, vpn, "alice", "000000")
        clock.advance(30)
        assert validate(app, vpn, "alice", alice.totp(clock.now())).result is Result.ACCEPT

    def test_failures_count_across_methods(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        builders.token(app)
        app.admin.update_settings(OPERATOR, "default", {"max_failures": 2})
        validate(app, vpn, "alice", "000000", method=MethodKind.APP_CODE)
        validate(app, vpn, "alice", "000000", method=MethodKind.OATH_TOKEN)
        assert validate(app, vpn, "alice", alice.totp(clock.now())).reason is Reason.USER_LOCKED

    def test_replays_count_as_failures(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        alice = builders.enrolled_user(app)
        code = alice.totp(clock.now())
        validate(app, vpn, "alice", code)
        validate(app, vpn, "alice", code)
        assert app.admin.get_user(OPERATOR, "default", "alice").failed_count == 1


class TestPolicy:
    def test_unknown_users_answer_like_a_wrong_code(self, app: App, vpn: Integration) -> None:
        builders.enrolled_user(app)
        unknown = validate(app, vpn, "mallory", "123456")
        wrong = validate(app, vpn, "alice", "000000")
        assert unknown == wrong == Decision(Result.REJECT, Reason.INVALID_CODE)

    def test_a_user_without_methods(self, app: App, vpn: Integration) -> None:
        builders.user(app, "bob")
        assert validate(app, vpn, "bob", "123456") == Decision(
            Result.REJECT, Reason.NO_METHOD_REGISTERED
        )

    def test_mfa_disabled_accepts_without_a_second_factor(self, app: App, vpn: Integration) -> None:
        builders.user(app, "carol", mfa=MfaState.DISABLED)
        assert validate(app, vpn, "carol", None) == Decision(Result.ACCEPT, Reason.MFA_NOT_REQUIRED)

    def test_a_code_method_without_a_code(self, app: App, vpn: Integration) -> None:
        builders.enrolled_user(app)
        decision = validate(app, vpn, "alice", None)
        assert decision.reason is Reason.CODE_REQUIRED
        assert decision.methods == ("app_code",)

    def test_an_integration_reaches_only_its_own_tenant(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        app.admin.create_tenant(OPERATOR, "other")
        builders.user(app, "alice", tenant="other")
        with pytest.raises(Forbidden):
            validate(app, vpn, "alice", "123456", tenant="other")
        with pytest.raises(Forbidden):
            validate(app, vpn, "alice", "123456", tenant="no-such-tenant")

    def test_the_tenant_defaults_to_the_integrations(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        decision = validate(app, vpn, "alice", alice.totp(clock.now()), tenant="default")
        assert decision.result is Result.ACCEPT


class TestAudit:
    def test_every_validation_writes_exactly_one_event(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        validate(app, vpn, "alice", alice.totp(clock.now()), client_ip="203.0.113.7")
        validate(app, vpn, "alice", "000000")
        validate(app, vpn, "nobody", "000000")
        validate(app, vpn, "alice", None)
        assert [(e["user"], e["result"], e["reason"]) for e in events(app)] == [
            ("alice", "accept", None),
            ("alice", "reject", "invalid_code"),
            ("nobody", "reject", "invalid_code"),
            ("alice", "reject", "code_required"),
        ]

    def test_the_event_holds_what_operators_expect(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        builders.user(app, "dave", first_name="Dave", last_name="Jones", email="dave@example.com")
        tok = builders.token(app, "dave", serial="OATH0001")
        validate(app, vpn, "dave", tok.hotp(0), client_ip="203.0.113.7")
        (event,) = events(app)
        assert event == {
            **event,
            "tenant": "default",
            "user": "dave",
            "first_name": "Dave",
            "last_name": "Jones",
            "email": "dave@example.com",
            "phone": None,
            "device": "OATH0001",
            "method": "oath_token",
            "result": "accept",
            "reason": None,
            "integration": "vpn",
            "server_name": "node-a",
            "server_ip": "192.0.2.10",
            "client_ip": "203.0.113.7",
            "interface": "http",
            "at": clock.now(),
        }

    def test_optional_fields_follow_the_tenant_setting(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        builders.user(app, "dave", first_name="Dave", email="dave@example.com")
        tok = builders.token(app, "dave")
        app.admin.update_settings(OPERATOR, "default", {"audit_fields": ["client_ip"]})
        validate(app, vpn, "dave", tok.hotp(0), client_ip="203.0.113.7")
        (event,) = events(app)
        assert (event["first_name"], event["email"], event["device"]) == (None, None, None)
        assert event["client_ip"] == "203.0.113.7"

    def test_no_code_or_seed_reaches_the_audit_log(
        self, app: App, vpn: Integration, clock: FakeClock
    ) -> None:
        alice = builders.enrolled_user(app)
        code = alice.totp(clock.now())
        validate(app, vpn, "alice", code)
        validate(app, vpn, "alice", "987654")
        text = repr(events(app))
        assert code not in text and "987654" not in text and alice.seed.hex() not in text

    def test_filters_and_cursor(self, app: App, vpn: Integration, clock: FakeClock) -> None:
        builders.enrolled_user(app)
        for i in range(5):
            clock.advance(10)
            validate(app, vpn, "alice" if i % 2 else "bob", "000000")
        assert len(events(app, user="alice")) == 2
        assert len(events(app, result="accept")) == 0
        first = app.audit.query(OPERATOR, "default", limit=3)
        rest = app.audit.query(OPERATOR, "default", after_seq=first[-1].seq, limit=3)
        assert len(first) == 3 and len(rest) == 2
        assert events(app, since=clock.now() - 15) == events(app)[-2:]


def test_no_code_or_seed_reaches_a_log_line(
    app: App, vpn: Integration, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    alice = builders.enrolled_user(app)
    app.admin.update_settings(OPERATOR, "default", {"max_failures": 2})
    code = alice.totp(clock.now())
    validate(app, vpn, "alice", code)
    validate(app, vpn, "alice", "246810")
    validate(app, vpn, "alice", "135791")  # locks: logged
    assert "locked" in caplog.text
    for secret in (code, "246810", "135791", alice.seed.hex(), b32encode(alice.seed)):
        assert secret not in caplog.text
