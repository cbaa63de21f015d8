"""``oath_token``: hardware OATH tokens, HOTP and TOTP, and resynchronising a drifted one."""

from __future__ import annotations

import pytest

from twostep.domain.entities import (
    Method,
    MethodKind,
    MethodStatus,
    OtpAlgorithm,
    OtpParams,
    OtpType,
)
from twostep.domain.settings import TenantSettings
from twostep.factors import otp, registry
from twostep.factors.base import CodeFactor, CodeMatch
from twostep.factors.oath_token import OathTokenFactor
from twostep.factors.resync import resync_target

SEED = b"12345678901234567890"
HOTP = OtpParams(type=OtpType.HOTP)
TOTP = OtpParams(type=OtpType.TOTP)
NOW = 1_800_000_000.0
STEP = otp.time_step(NOW, 30)
FACTOR = OathTokenFactor()


def token(params: OtpParams, *, counter: int = 0, drift: int = 0) -> Method:
    return Method(
        id="tok1",
        user_id=1,
        kind=MethodKind.OATH_TOKEN,
        status=MethodStatus.ACTIVE,
        otp=params,
        serial="OATH0001",
        counter=counter,
        drift=drift,
    )


def code(params: OtpParams, counter: int) -> str:
    return otp.hotp(SEED, params, counter)


def test_the_registry_serves_oath_tokens_with_a_code_factor() -> None:
    kind = registry.kind(MethodKind.OATH_TOKEN)
    assert isinstance(kind.code, OathTokenFactor)
    assert isinstance(kind.code, CodeFactor)
    assert kind.kind is MethodKind.OATH_TOKEN


class TestHotpToken:
    def test_the_expected_counter_matches_as_a_counter_not_a_step(self) -> None:
        match = FACTOR.match(token(HOTP, counter=5), SEED, code(HOTP, 5), NOW, TenantSettings())
        assert match == CodeMatch(counter=5)

    def test_a_press_ahead_within_the_look_ahead_matches(self) -> None:
        settings = TenantSettings(hotp_lookahead=3)
        match = FACTOR.match(token(HOTP, counter=5), SEED, code(HOTP, 8), NOW, settings)
        assert match == CodeMatch(counter=8)

    def test_a_press_ahead_past_the_look_ahead_does_not_match(self) -> None:
        settings = TenantSettings(hotp_lookahead=3)
        assert FACTOR.match(token(HOTP, counter=5), SEED, code(HOTP, 9), NOW, settings) is None

    def test_a_recently_spent_code_matches_its_old_counter_so_its_claim_fails(self) -> None:
        # The claim (counter <= matched) refuses it; the audit log then says "replayed".
        method = token(HOTP, counter=20)
        assert FACTOR.match(method, SEED, code(HOTP, 15), NOW, TenantSettings()) == CodeMatch(
            counter=15
        )

    def test_a_code_spent_long_ago_does_not_match(self) -> None:
        method = token(HOTP, counter=20)
        assert FACTOR.match(method, SEED, code(HOTP, 14), NOW, TenantSettings()) is None

    def test_the_clock_does_not_matter_to_hotp(self) -> None:
        method = token(HOTP, counter=5)
        for now in (0.0, NOW, NOW * 3):
            assert FACTOR.match(method, SEED, code(HOTP, 5), now, TenantSettings()) == CodeMatch(
                counter=5
            )

    def test_eight_digit_sha256_tokens_match(self) -> None:
        params = OtpParams(type=OtpType.HOTP, algorithm=OtpAlgorithm.SHA256, digits=8)
        match = FACTOR.match(token(params), SEED, code(params, 2), NOW, TenantSettings())
        assert match == CodeMatch(counter=2)


class TestTotpToken:
    def test_the_current_code_matches_as_a_step_not_a_counter(self) -> None:
        match = FACTOR.match(token(TOTP), SEED, code(TOTP, STEP), NOW, TenantSettings())
        assert match == CodeMatch(step=STEP)

    @pytest.mark.parametrize(("window", "offset"), [(1, -1), (1, 1), (3, -3)])
    def test_steps_within_the_tenant_window_match(self, window: int, offset: int) -> None:
        settings = TenantSettings(totp_window=window)
        match = FACTOR.match(token(TOTP), SEED, code(TOTP, STEP + offset), NOW, settings)
        assert match == CodeMatch(step=STEP + offset)

    @pytest.mark.parametrize(("window", "offset"), [(0, 1), (1, 2), (1, -2)])
    def test_steps_outside_the_tenant_window_do_not_match(self, window: int, offset: int) -> None:
        settings = TenantSettings(totp_window=window)
        assert FACTOR.match(token(TOTP), SEED, code(TOTP, STEP + offset), NOW, settings) is None

    def test_a_drifted_token_matches_once_its_drift_is_known(self) -> None:
        settings = TenantSettings(totp_window=1)
        late = code(TOTP, STEP - 7)  # the token's clock runs 3.5 minutes slow
        assert FACTOR.match(token(TOTP), SEED, late, NOW, settings) is None
        assert FACTOR.match(token(TOTP, drift=-7), SEED, late, NOW, settings) == CodeMatch(
            step=STEP - 7
        )

    def test_sixty_second_sha512_tokens_match(self) -> None:
        params = OtpParams(algorithm=OtpAlgorithm.SHA512, digits=8, period=60)
        step = otp.time_step(NOW, 60)
        match = FACTOR.match(token(params), SEED, code(params, step), NOW + 45, TenantSettings())
        assert match == CodeMatch(step=step)


class TestResyncHotp:
    def test_two_consecutive_codes_far_ahead_give_the_second_codes_counter(self) -> None:
        method = token(HOTP, counter=10)
        target = resync_target(method, SEED, code(HOTP, 60), code(HOTP, 61), NOW, window=100)
        assert target == CodeMatch(counter=61)

    def test_the_search_starts_at_the_expected_counter(self) -> None:
        method = token(HOTP, counter=10)
        assert resync_target(method, SEED, code(HOTP, 10), code(HOTP, 11), NOW, 100) == CodeMatch(
            counter=11
        )
        assert resync_target(method, SEED, code(HOTP, 8), code(HOTP, 9), NOW, 100) is None

    def test_the_search_ends_at_the_resync_window(self) -> None:
        method = token(HOTP, counter=10)
        assert resync_target(method, SEED, code(HOTP, 110), code(HOTP, 111), NOW, 100) == (
            CodeMatch(counter=111)
        )
        assert resync_target(method, SEED, code(HOTP, 111), code(HOTP, 112), NOW, 100) is None

    @pytest.mark.parametrize(("first", "second"), [(61, 60), (60, 62), (60, 60)])
    def test_codes_that_are_not_consecutive_do_not_resync(self, first: int, second: int) -> None:
        method = token(HOTP)
        assert resync_target(method, SEED, code(HOTP, first), code(HOTP, second), NOW, 100) is None

    def test_a_code_of_another_token_does_not_resync(self) -> None:
        other = b"abcdefghijabcdefghij"
        method = token(HOTP)
        second = otp.hotp(other, HOTP, 61)
        assert resync_target(method, SEED, code(HOTP, 60), second, NOW, 100) is None


class TestResyncTotp:
    @pytest.mark.parametrize("drift", [-40, -1, 0, 2, 95])
    def test_two_consecutive_codes_give_the_second_codes_time_step(self, drift: int) -> None:
        # The user reads two codes off a token whose clock is ``drift`` steps off.
        first, second = code(TOTP, STEP + drift - 1), code(TOTP, STEP + drift)
        target = resync_target(token(TOTP), SEED, first, second, NOW, window=100)
        assert target == CodeMatch(step=STEP + drift)

    def test_the_search_is_around_the_servers_clock_not_the_old_drift(self) -> None:
        method = token(TOTP, drift=500)  # a stale drift does not move the search
        first, second = code(TOTP, STEP + 2), code(TOTP, STEP + 3)
        assert resync_target(method, SEED, first, second, NOW, 10) == CodeMatch(step=STEP + 3)

    def test_the_search_spans_the_window_either_side_of_now(self) -> None:
        method = token(TOTP)
        behind = resync_target(method, SEED, code(TOTP, STEP - 10), code(TOTP, STEP - 9), NOW, 10)
        assert behind == CodeMatch(step=STEP - 9)
        too_far = resync_target(method, SEED, code(TOTP, STEP - 11), code(TOTP, STEP - 10), NOW, 10)
        assert too_far is None
        ahead = resync_target(method, SEED, code(TOTP, STEP + 10), code(TOTP, STEP + 11), NOW, 10)
        assert ahead == CodeMatch(step=STEP + 11)
        beyond = resync_target(method, SEED, code(TOTP, STEP + 11), code(TOTP, STEP + 12), NOW, 10)
        assert beyond is None

    def test_codes_out_of_order_do_not_resync(self) -> None:
        first, second = code(TOTP, STEP + 5), code(TOTP, STEP + 4)
        assert resync_target(token(TOTP), SEED, first, second, NOW, 100) is None

    def test_the_drift_a_resync_implies_makes_the_tokens_next_code_match(self) -> None:
        # What the enroll service does with the target: drift = target step - server step.
        first, second = code(TOTP, STEP - 31), code(TOTP, STEP - 30)
        target = resync_target(token(TOTP), SEED, first, second, NOW, 100)
        assert target is not None
        assert target.step is not None
        drift = target.step - STEP
        later = NOW + 30  # the token now shows its next code
        resynced = token(TOTP, drift=drift)
        settings = TenantSettings(totp_window=0)
        assert FACTOR.match(resynced, SEED, code(TOTP, STEP - 29), later, settings) == CodeMatch(
            step=STEP - 29
        )
