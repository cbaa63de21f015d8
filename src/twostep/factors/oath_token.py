"""``oath_token``: a hardware OATH token (TOTP or HOTP) identified by its serial."""

from __future__ import annotations

from twostep.domain.entities import Method, MethodKind, OtpType
from twostep.domain.settings import RANGES, TenantSettings
from twostep.factors import otp
from twostep.factors.base import CodeMatch

REPLAY_LOOKBACK = 5  # spent HOTP counters still recognised, to tell a replay from a typo

# HOTP counters are stored as BIGINT. Accepting a code stores the counter after the matched
# one; a resync, the one after the second code's, up to hotp_resync_window ahead. So a
# counter a client sets leaves room for the farthest of those, and matching never looks past
# what can be stored (an imported token may start anywhere up to STORED_COUNTER_MAX).
# 2^63 - 2^14 is that, rounded to a number a double holds exactly: JSON Schema tools that
# read numbers as doubles (the OpenAPI description's "maximum") see it as it is.
STORED_COUNTER_MAX = 2**63 - 1
MAX_COUNTER = 2**63 - 2**14
assert MAX_COUNTER + RANGES["hotp_resync_window"][1] + 2 <= STORED_COUNTER_MAX


class OathTokenFactor:
    kind = MethodKind.OATH_TOKEN

    def match(
        self, method: Method, seed: bytes, code: str, now: float, settings: TenantSettings
    ) -> CodeMatch | None:
        params = method.otp
        assert params is not None
        if params.type is OtpType.HOTP:
            last = min(method.counter + settings.otp.hotp_lookahead, STORED_COUNTER_MAX - 1)
            counter = otp.match_counter(seed, params, code, method.counter, last)
            if counter is None:
                # A recently spent code still matches here, so its claim fails and the
                # audit log says "replayed" rather than "wrong". The future window is
                # searched first: a valid new code must never pass for an old one.
                first = max(method.counter - REPLAY_LOOKBACK, 0)
                counter = otp.match_counter(seed, params, code, first, method.counter - 1)
            return None if counter is None else CodeMatch(counter=counter)
        step = otp.match_totp(seed, params, code, now, settings.otp.totp_window, method.drift)
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
        end = min(start + window, STORED_COUNTER_MAX - 2)  # the counter stored is found + 2
        found = otp.find_consecutive(seed, params, first_code, second_code, start, end)
        return None if found is None else CodeMatch(counter=found + 1)
    current = otp.time_step(now, params.period)
    found = otp.find_consecutive(
        seed, params, first_code, second_code, current - window, current + window
    )
    return None if found is None else CodeMatch(step=found + 1)
