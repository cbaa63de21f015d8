"""Bringing a drifted code method back from two consecutive codes (HOTP counter or TOTP
clock drift): the same search for an app's codes and a hardware token's."""

from __future__ import annotations

from twostep.domain.entities import Method, OtpType
from twostep.factors import otp
from twostep.factors.base import CodeMatch

# HOTP counters are stored as BIGINT; the counter stored after a resync is the one found
# plus two, so the search never looks past what can be stored.
STORED_COUNTER_MAX = 2**63 - 1


def resync_target(
    method: Method, seed: bytes, first_code: str, second_code: str, now: float, window: int
) -> CodeMatch | None:
    """Where two consecutive codes put a drifted method: for HOTP the counter of the
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
