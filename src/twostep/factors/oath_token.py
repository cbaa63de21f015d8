"""``oath_token``: a hardware OATH token (TOTP or HOTP) identified by its serial."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from twostep.domain.entities import (
    Method,
    MethodKind,
    MethodStatus,
    OtpAlgorithm,
    OtpParams,
    OtpType,
)
from twostep.domain.errors import InvalidInput
from twostep.domain.settings import RANGES, TenantSettings
from twostep.factors import otp
from twostep.factors.base import CodeMatch, Draft, EnrollContext, Family, Fields, Kind
from twostep.factors.resync import STORED_COUNTER_MAX

REPLAY_LOOKBACK = 5  # spent HOTP counters still recognised, to tell a replay from a typo

# HOTP counters are stored as BIGINT. Accepting a code stores the counter after the matched
# one; a resync, the one after the second code's, up to hotp_resync_window ahead. So a
# counter a client sets leaves room for the farthest of those, and matching never looks past
# what can be stored (an imported token may start anywhere up to STORED_COUNTER_MAX).
# 2^63 - 2^14 is that, rounded to a number a double holds exactly: JSON Schema tools that
# read numbers as doubles (the OpenAPI description's "maximum") see it as it is.
MAX_COUNTER = 2**63 - 2**14
assert MAX_COUNTER + RANGES["hotp_resync_window"][1] + 2 <= STORED_COUNTER_MAX


class OathTokenFactor:
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


class TokenFields(Fields):
    """A hardware token enrolled by hand (tokens usually come in files: see the importers)."""

    serial: str = Field(min_length=1, max_length=64)
    secret: str = Field(min_length=1, max_length=512, description="base32, or hex:...")
    otp_type: OtpType = Field(default=OtpType.TOTP, strict=False)
    algorithm: OtpAlgorithm = Field(default=OtpAlgorithm.SHA1, strict=False)
    digits: int = Field(default=6, ge=6, le=8)
    period: Literal[30, 60] = 30
    counter: int = Field(default=0, ge=0, le=MAX_COUNTER, description="HOTP: the next counter")


def make(fields: TokenFields, context: EnrollContext) -> Draft:
    """Active at once: the seed came from the vendor."""
    try:
        seed = otp.parse_seed(fields.secret)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="secret") from exc
    serial = fields.serial
    if not serial.isprintable():
        raise InvalidInput("serial must be 1-64 printable characters", field="serial")
    params = OtpParams(
        type=fields.otp_type, algorithm=fields.algorithm, digits=fields.digits, period=fields.period
    )
    return Draft(
        status=MethodStatus.ACTIVE,
        label=fields.label,
        seed=seed,
        otp=params,
        serial=serial,
        counter=fields.counter,
    )


KIND = Kind(
    kind=MethodKind.OATH_TOKEN,
    title="Code from a hardware token",  # what people read (the pages translate it)
    family=Family.CODE,
    words=("oath_token", "token"),
    settings=("totp_window", "hotp_lookahead", "hotp_resync_window"),
    fields=TokenFields,
    make=make,
    code=OathTokenFactor(),
)
