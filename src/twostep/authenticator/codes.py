"""Offline codes: the TOTP the activation handed out, computed with twostep.factors.otp."""

from __future__ import annotations

import math
from dataclasses import dataclass

from twostep.authenticator.errors import KeystoreError
from twostep.authenticator.model import Totp
from twostep.domain.entities import OtpAlgorithm, OtpParams, OtpType
from twostep.factors import otp


@dataclass(frozen=True, slots=True)
class CurrentCode:
    code: str
    seconds_left: int  # until the next code


def current(totp: Totp, now: float) -> CurrentCode:
    """The code for ``now`` and how many seconds it has left."""
    if totp.period <= 0:
        raise KeystoreError("the stored offline-code period is not positive")
    step = otp.time_step(now, totp.period)
    try:
        params = OtpParams(
            type=OtpType.TOTP,
            algorithm=OtpAlgorithm(totp.algorithm.upper()),
            digits=totp.digits,
            period=totp.period,
        )
        code = otp.hotp(otp.parse_seed(totp.secret), params, step)
    except ValueError as exc:  # unknown algorithm, bad secret, digits out of 6..8
        raise KeystoreError(f"the stored offline-code settings are unusable: {exc}") from exc
    return CurrentCode(code, math.ceil((step + 1) * totp.period - now))
