"""``oath_token``: a hardware OATH token (TOTP or HOTP) identified by its serial."""

from __future__ import annotations

from twostep.domain.entities import Method, MethodKind, OtpType
from twostep.domain.settings import TenantSettings
from twostep.factors import otp
from twostep.factors.base import CodeMatch

REPLAY_LOOKBACK = 5  # spent HOTP counters still recognised, to tell a replay from a typo


class OathTokenFactor:
    kind = MethodKind.OATH_TOKEN

    def match(
        self, method: Method, seed: bytes, code: str, now: float, settings: TenantSettings
    ) -> CodeMatch | None:
        params = method.otp
        assert params is not None
        if params.type is OtpType.HOTP:
            counter = otp.match_hotp(seed, params, code, method.counter, settings.hotp_lookahead)
            if counter is None:
                # A recently spent code still matches here, so its claim fails and the
                # audit log says "replayed" rather than "wrong". The future window is
                # searched first: a valid new code must never pass for an old one.
                first = max(method.counter - REPLAY_LOOKBACK, 0)
                counter = otp.match_counter(seed, params, code, first, method.counter - 1)
            return None if counter is None else CodeMatch(counter=counter)
        step = otp.match_totp(seed, params, code, now, settings.totp_window, method.drift)
        return None if step is None else CodeMatch(step=step)


def resync_target(
    method: Method, seed: bytes, first_code: str, second_code: str, now: float, window: int
) -> CodeMatch | None:
    """Where two consecutive codes put a drifted token: for HOTP the counter of the
    second code; for TOTP the time step of the second code (its drift is derived)."""
    params = method.otp
    assert params is not None
    if params.type is OtpType.HOTP:
        start = method.counter
        found = otp.find_consecutive(seed, params, first_code, second_code, start, start + window)
        return None if found is None else CodeMatch(counter=found + 1)
    current = otp.time_step(now, params.period)
    found = otp.find_consecutive(
        seed, params, first_code, second_code, current - window, current + window
    )
    return None if found is None else CodeMatch(step=found + 1)
